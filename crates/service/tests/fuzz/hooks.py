"""Keeps the fuzzer from locking out the account it signs in with.

The fuzzer is an admin and may sign out, demote, re-password or remove any user, and
fail sign-ins until an account locks: all legitimate, all tested elsewhere. Done to
its own account, every later request would be refused and the run would test
nothing, so cases aimed at that one login are not generated. Every other user, and
every other request, is fuzzed.
"""

import os

import schemathesis

FUZZ_LOGIN = os.environ["CALLPARK_FUZZ_LOGIN"].lower()


def _names_fuzz_login(value):
    return isinstance(value, str) and value.lower() == FUZZ_LOGIN


@schemathesis.hook
def filter_case(context, case):
    parameters = case.path_parameters or {}
    if _names_fuzz_login(parameters.get("login")) and case.method.upper() != "GET":
        return False
    if case.path.endswith("/login") and isinstance(case.body, dict):
        return not _names_fuzz_login(case.body.get("login"))
    return True
