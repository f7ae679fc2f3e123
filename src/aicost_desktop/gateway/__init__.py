"""The local metering gateway: an OpenAI/Anthropic proxy on 127.0.0.1 that meters, prices and can block requests."""
