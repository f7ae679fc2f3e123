"""pyqtgraph charts of the Analytics dock; they are updated in place with setData, never rebuilt."""
