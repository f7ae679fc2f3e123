"""Usage read off each API's responses and streams, in the ledger's token semantics (no network)."""

from __future__ import annotations

import json

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.gateway.sse import SSESplitter, parse_event, without_null_usage
from aicost_desktop.gateway.usage import StreamMeter, anthropic_usage, from_json, openai_usage


def test_openai_chat_usage_splits_cached_input_and_keeps_reasoning_inside_output() -> None:
    u = openai_usage({"prompt_tokens": 1000, "completion_tokens": 300, "total_tokens": 1300,
                      "prompt_tokens_details": {"cached_tokens": 400},
                      "completion_tokens_details": {"reasoning_tokens": 120}})
    assert u == TokenUsage(input_tokens=600, output_tokens=300, cache_read_tokens=400, reasoning_tokens=120,
                           reasoning_included=True, requests=1)


def test_openai_responses_and_embeddings_usage() -> None:
    r = openai_usage({"input_tokens": 50, "input_tokens_details": {"cached_tokens": 20}, "output_tokens": 9,
                      "output_tokens_details": {"reasoning_tokens": 4}, "total_tokens": 59})
    assert (r.input_tokens, r.cache_read_tokens, r.output_tokens, r.reasoning_tokens) == (30, 20, 9, 4)
    e = openai_usage({"prompt_tokens": 8, "total_tokens": 8})
    assert (e.input_tokens, e.output_tokens, e.requests) == (8, 0, 1)


def test_anthropic_usage_keeps_cache_reads_and_writes_by_ttl_apart() -> None:
    u = anthropic_usage({"input_tokens": 10, "cache_creation_input_tokens": 1500, "cache_read_input_tokens": 200,
                         "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1000},
                         "output_tokens": 30})
    assert u == TokenUsage(input_tokens=10, output_tokens=30, cache_read_tokens=200, cache_write_5m_tokens=500,
                           cache_write_1h_tokens=1000, requests=1)
    # Without the TTL split every write is at the default 5-minute lifetime.
    assert anthropic_usage({"input_tokens": 1, "cache_creation_input_tokens": 7}).cache_write_5m_tokens == 7


def test_non_streamed_bodies_give_model_and_tier() -> None:
    m = from_json("openai", {"model": "gpt-5", "service_tier": "flex", "usage": {"prompt_tokens": 3}})
    assert (m.model, m.tier, m.usage.input_tokens) == ("gpt-5", ServiceTier.FLEX, 3)  # type: ignore[union-attr]
    assert from_json("anthropic", {"error": "x"}).usage is None


def _events(*docs: object, names: list[str] | None = None) -> list:
    raw = b"".join((f"event: {names[i]}\n" if names else "").encode() + b"data: " + json.dumps(d).encode() + b"\n\n"
                   for i, d in enumerate(docs))
    return SSESplitter().feed(raw)


def test_sse_splitter_keeps_exact_bytes_across_chunk_boundaries() -> None:
    raw = b"event: a\ndata: {\"x\": 1}\n\n: comment\r\n\r\ndata: [DONE]\n\n"
    s = SSESplitter()
    got = []
    for i in range(len(raw)):  # one byte at a time: every boundary falls inside some chunk
        got += s.feed(raw[i:i + 1])
    assert b"".join(e.raw for e in got) == raw
    assert [(e.name, e.data) for e in got] == [("a", '{"x": 1}'), (None, ""), (None, "[DONE]")]
    assert parse_event(b"data: a\ndata: b\n\n").data == "a\nb"


def test_openai_stream_usage_chunk_is_metered_and_dropped_only_when_the_gateway_asked() -> None:
    chunks = [{"model": "gpt-4o", "choices": [{"delta": {"content": "hi"}}], "usage": None},
              {"model": "gpt-4o", "choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}}]
    ours = StreamMeter("openai", "chat.completions", strip_usage_chunk=True)
    assert [ours.feed(e) for e in _events(*chunks)] == [False, True]
    assert ours.result(True).usage == TokenUsage(input_tokens=7, output_tokens=2, requests=1)
    theirs = StreamMeter("openai", "chat.completions", strip_usage_chunk=False)
    assert [theirs.feed(e) for e in _events(*chunks)] == [False, False]


def test_null_usage_keys_added_by_include_usage_are_removed_byte_exactly() -> None:
    assert without_null_usage(b'data: {"id":"c","choices":[],"usage":null}\n\n') == b'data: {"id":"c","choices":[]}\n\n'
    assert without_null_usage(b'data: {"usage":null,"id":"c"}\n\n') == b'data: {"id":"c"}\n\n'
    kept = b'data: {"id":"c","usage":{"prompt_tokens":1}}\n\n'
    assert without_null_usage(kept) == kept


def test_anthropic_stream_takes_input_from_message_start_and_cumulative_counts_from_message_delta() -> None:
    m = StreamMeter("anthropic", "messages")
    start = {"type": "message_start", "message": {"model": "claude-sonnet-4-5", "usage": {
        "input_tokens": 25, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 40,
        "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 30}, "output_tokens": 1}}}
    deltas = [{"type": "content_block_delta", "delta": {"type": "text_delta", "text": "abcd"}},
              {"type": "message_delta", "usage": {"output_tokens": 8}},
              {"type": "message_delta", "usage": {"output_tokens": 15}}]
    for e in _events(start, *deltas):
        m.feed(e)
    got = m.result(True)
    assert got.model == "claude-sonnet-4-5" and not got.estimated
    assert got.usage == TokenUsage(input_tokens=25, output_tokens=15, cache_read_tokens=100,
                                   cache_write_5m_tokens=10, cache_write_1h_tokens=30, requests=1)


def test_a_cut_anthropic_stream_keeps_exact_input_and_estimates_output_from_the_text_seen() -> None:
    m = StreamMeter("anthropic", "messages")
    evs = [{"type": "message_start", "message": {"usage": {"input_tokens": 25, "output_tokens": 1}}}]
    evs += [{"type": "content_block_delta", "delta": {"text": "abcdefgh"}}] * 3  # 24 characters
    for e in _events(*evs):
        m.feed(e)
    got = m.result(False)
    assert got.estimated and got.usage is not None
    assert (got.usage.input_tokens, got.usage.output_tokens) == (25, 6)


def test_a_cut_openai_stream_counts_one_token_per_delta_and_the_prompt_estimate() -> None:
    m = StreamMeter("openai", "chat.completions", strip_usage_chunk=True, prompt_estimate=12)
    for e in _events(*[{"choices": [{"delta": {"content": "x"}}]}] * 4):
        m.feed(e)
    got = m.result(False)
    assert got.estimated and got.usage == TokenUsage(input_tokens=12, output_tokens=4, requests=1)


def test_responses_stream_usage_comes_from_response_completed() -> None:
    m = StreamMeter("openai", "responses")
    evs = [{"type": "response.created", "response": {"model": "gpt-5", "usage": None}},
           {"type": "response.output_text.delta", "delta": "hey"},
           {"type": "response.completed", "response": {"model": "gpt-5", "usage": {
               "input_tokens": 40, "input_tokens_details": {"cached_tokens": 10}, "output_tokens": 5,
               "output_tokens_details": {"reasoning_tokens": 2}}}}]
    for e in _events(*evs):
        m.feed(e)
    got = m.result(True)
    assert got.usage == TokenUsage(input_tokens=30, output_tokens=5, cache_read_tokens=10, reasoning_tokens=2,
                                   requests=1)
