"""newsearch: news search with one fine-tuned encoder and five small heads."""
