"""Quality evaluation behind `news-search eval`: one module per task, a report that prints and saves."""
