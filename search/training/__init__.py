"""Multi-task fine-tuning of the shared encoder (`news-search train`)."""
