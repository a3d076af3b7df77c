"""One reader per source of CONTRACTS §1–§8: each stages typed rows and quarantines bad records with a reason."""
