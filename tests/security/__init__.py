"""The attack suite (issue 22): one test per finding of the security review, each written to
fail on the code the review found and to pass once the finding is closed."""
