"""Answer quality insights (issue 21): unanswered questions grouped by similarity, and corrections."""
