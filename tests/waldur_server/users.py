"""The seeded users and their API tokens: shared by seed.py (in Waldur's venv) and the tests.

The tokens are fixed so that a cached database dump and the tests agree without a side channel;
the server only listens on loopback, so they guard nothing.
"""

import hashlib


def _token(username):
    return hashlib.sha1(("waldur.cloud live tests " + username).encode("ascii")).hexdigest()


# username: (token, what the user is)
USERS = {
    "staff": (_token("staff"), "staff: sees every image and flavor"),
    "owner": (_token("owner"), "owner of the customer Alpha Org: sees the images of Alpha's tenants"),
    "member": (_token("member"), "member (admin role) of the project gamma-proj-1 only"),
}

TOKENS = {username: token for username, (token, _role) in USERS.items()}
