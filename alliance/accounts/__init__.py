"""Staff accounts: roles, supervision links, login/MFA policy, audit events, user administration."""
