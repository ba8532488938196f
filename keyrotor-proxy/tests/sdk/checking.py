"""The SDK check scripts' one way to check: a line per check, and the first failed check
ends the script with exit code 1."""

import sys

passed = 0


def check(name, condition, detail=""):
    global passed
    if not condition:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


def done():
    print(f"{passed} passed, 0 failed")
