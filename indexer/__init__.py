"""`news-index`: read articles, split them into passages, annotate each passage once, write the store."""
