"""Drive the real ``screening`` CLI in a pseudo-terminal (pexpect helpers for the interview tests)."""
