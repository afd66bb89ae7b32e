"""Services: one function per write. Each takes the session and the actor, checks the
policy, changes, audits and commits; on any error it rolls back and re-raises."""
