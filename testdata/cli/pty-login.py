#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and answers its login prompts as a person would: the username after
"Username: " appears, the password after "Password: " appears (so the terminal's own echo cannot show it).
Answers come from $LOGIN_USER and $LOGIN_PASSWORD; prints everything the terminal showed, exits with the command's code."""
import os
import pty
import select
import sys
import termios
import time

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

shown = b""


def read_until(token):
    global shown
    while token not in shown:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            sys.exit("timed out waiting for %r; the terminal showed %r" % (token, shown))
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            sys.exit("the command ended before %r; the terminal showed %r" % (token, shown))
        shown += chunk


read_until(b"Username")
read_until(b": ")
os.write(fd, os.environ["LOGIN_USER"].encode() + b"\n")
read_until(b"Password: ")
# docker 20.10 prints "Password: " and only then turns echo off: wait (bounded) until the terminal no longer echoes,
# as a person typing would in practice. The master side reads the slave's termios.
for _ in range(100):
    if not termios.tcgetattr(fd)[3] & termios.ECHO:
        break
    time.sleep(0.05)
os.write(fd, os.environ["LOGIN_PASSWORD"].encode() + b"\n")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(status))
