"""Python processes for the tests, forked from a warm interpreter instead of started cold.

The multi-process tests start about five hundred Python processes; each would spend 0.35 s of
CPU importing SQLAlchemy, SQLModel, pydantic, requests and Alembic, and up to 0.2 s more
importing provider_store, before doing its work. :func:`Popen` instead asks a *zygote* (one per
test process, started on first use) that has imported those libraries and provider_store's
modules to fork: the child is a real, separate process with its own pid, pipes, signals and exit
status, running ``python -c CODE``, ``python -m MODULE`` or ``python SCRIPT`` as the interpreter
would, in the environment and directory given.

provider_store's modules can be imported ahead because importing one reads nothing of the
environment (``tests/test_layout.py`` holds every module to that) and starts nothing (its fork
hooks are made for exactly this). Left out are the ``__main__`` modules and the faces with
optional dependencies (``serve``, the ``llm`` plugin), which a child imports as it would. A
command whose ``PYTHONPATH`` differs from the zygote's (it could mean other modules) runs cold.
Commands that are not the current interpreter (or ``provider-store``) run through
:class:`subprocess.Popen` as usual, and so does everything when
``PROVIDER_STORE_TEST_COLD_PROCESSES`` is set. The tests of start-up itself start a new
interpreter.

Run as a script, this module is the zygote: ``python zygote.py SOCKET``.

A child ends as the interpreter ends any program: its exception (or ``SystemExit``) leaves the
script, the interpreter waits for its threads and runs its ``atexit`` handlers; the zygote's own
handler, registered before anything else (so it runs last), then flushes the standard streams
and ends the process with :func:`os._exit` (or SIGINT after Ctrl-C), skipping the teardown of
every module, which costs more than the work of most children.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from typing import IO, Any, NoReturn

# The libraries every child imports anyway (provider_store's modules follow, see _preload).
PRELOAD = (
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlmodel",
    "pydantic",
    "requests",
    "urllib3",
    "click",
    "yaml",
    "psycopg",
    "alembic.command",
    "alembic.runtime.migration",
    "alembic.operations",
)
# provider_store's modules that are not imported ahead (see the module docstring).
NOT_PRELOADED = ("provider_store.serve", "provider_store.exports.llm_plugin")
COLD_ENV = "PROVIDER_STORE_TEST_COLD_PROCESSES"
PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL


class _Ending:
    """How a forked child ends (read by :func:`_end`): its exit code, or by SIGINT."""

    child = False
    code = 1
    interrupted = False


# -- the zygote (the server side) ----------------------------------------------------------------


def _serve(path: str) -> None:
    atexit.register(_end)  # first registered: the last handler to run
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    children: dict[int, socket.socket] = {}
    parent = os.getppid()
    # pid -> a pidfd, readable once that process has ended: the test process's and each child's.
    exits = {pid: fd for pid, fd in [(parent, _pidfd(parent))] if fd is not None}
    # Without pidfds (not Linux) an ended child or parent is noticed by looking every 5 ms.
    timeout = None if exits else 0.005
    while os.getppid() == parent:  # the test process that started it is gone: so is the zygote
        readable, _, _ = select.select([listener, *exits.values()], [], [], timeout)
        if parent in exits and exits[parent] in readable:
            return
        if listener in readable:
            conn, _ = listener.accept()
            message, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
            request = json.loads(message)
            if request.get("stop"):
                return
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                for other in children.values():
                    other.close()
                for fd in exits.values():
                    os.close(fd)
                _child(request, fds)  # never returns
            for fd in fds:
                os.close(fd)
            conn.sendall(f"pid {pid}\n".encode())
            children[pid] = conn
            child_exit = _pidfd(pid)
            if child_exit is not None:
                exits[pid] = child_exit
            elif timeout is None:
                timeout = 0.005
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            child_exit = exits.pop(pid, None)
            if child_exit is not None:
                os.close(child_exit)
            conn = children.pop(pid, None)
            if conn is not None:
                code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
                try:
                    conn.sendall(f"exit {code}\n".encode())
                except OSError:
                    pass
                conn.close()


def _pidfd(pid: int) -> int | None:
    """A descriptor that turns readable when process ``pid`` ends, where the system has them."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _preload() -> None:
    """Import the libraries of PRELOAD and provider_store's modules (but NOT_PRELOADED ones)."""
    import importlib
    import pkgutil

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    names = ["provider_store"]
    while names:
        try:
            module = importlib.import_module(names.pop())
        except ImportError:  # an optional dependency that is not installed
            continue
        for child in pkgutil.iter_modules(getattr(module, "__path__", ()), module.__name__ + "."):
            if not (child.name.endswith(".__main__") or child.name.startswith(NOT_PRELOADED)):
                names.append(child.name)


def _child(request: dict[str, Any], fds: list[int]) -> NoReturn:
    """Become ``python ARGS`` with the request's standard streams, environment and directory,
    then leave the script as it would (see the module docstring)."""
    _Ending.child = True
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
        sys.stdout = _text_stream(1, unbuffered)
        sys.stderr = _text_stream(2, True)
        _Ending.code = _run(request["args"])
    except SystemExit as exc:
        _Ending.code = _exit_code(exc.code)
    except KeyboardInterrupt:
        _Ending.interrupted = True
    except BaseException:  # as the interpreter does: the traceback, exit 1
        _Ending.code = 1
        raise
    raise SystemExit(_Ending.code)


def _text_stream(fd: int, write_through: bool) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding="utf-8",
        errors="backslashreplace" if fd == 2 else "strict",
        line_buffering=os.isatty(fd),
        write_through=write_through,
    )


def _run(args: list[str]) -> int:
    import runpy

    if args[0] == "-c":
        sys.argv = ["-c", *args[2:]]
        sys.path[0] = ""
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main  # a new one: this module's functions keep their globals
        exec(compile(args[1], "<string>", "exec"), main.__dict__)  # noqa: S102
    elif args[0] == "-m":
        sys.argv = [args[1], *args[2:]]
        sys.path[0] = os.getcwd()
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(args)
        sys.path[0] = str(Path(args[0]).resolve().parent)
        runpy.run_path(args[0], run_name="__main__")
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


def _end() -> None:
    """A child's last ``atexit`` handler (threads joined, every other handler run): flush the
    standard streams and end the process at once, with its code or by SIGINT."""
    if not _Ending.child:
        return  # the zygote itself ends as any program does
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if _Ending.interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(_Ending.code)


# -- the client side ------------------------------------------------------------------------------

_lock = threading.Lock()
_zygote: tuple[subprocess.Popen[str], str] | None = None
# The zygote is started in this process's environment, so with this module search path.
_ZYGOTE_PYTHONPATH = os.environ.get("PYTHONPATH")


def _socket_path() -> str | None:
    """The running zygote's socket (started on first use), or None when it cannot run."""
    global _zygote
    if os.environ.get(COLD_ENV) or not hasattr(os, "fork"):
        return None
    with _lock:
        if _zygote is None or _zygote[0].poll() is not None:
            path = tempfile.mktemp(prefix="ps-zygote-", suffix=".sock")  # noqa: S306
            proc = subprocess.Popen(
                [sys.executable, __file__, path], stdout=subprocess.PIPE, text=True
            )
            assert proc.stdout is not None
            if proc.stdout.readline() != "ready\n":
                return None
            _zygote = (proc, path)
            atexit.register(_stop_zygote)
        return _zygote[1]


def _stop_zygote() -> None:
    if _zygote is None:
        return
    proc, path = _zygote
    proc.kill()
    proc.wait()
    try:
        os.unlink(path)
    except OSError:
        pass


def _python_args(args: list[str]) -> list[str] | None:
    """The interpreter arguments of ``args`` when it runs this interpreter (or the
    ``provider-store`` console script); None for any other command."""
    if not args:
        return None
    program = str(args[0])
    if program == sys.executable and len(args) >= 2:
        rest = [str(a) for a in args[1:]]
        if rest[0] in ("-c", "-m") and len(rest) >= 2:
            return rest
        if not rest[0].startswith("-"):
            return rest
        return None
    if (
        Path(program).name == "provider-store"
        and Path(program).parent == Path(sys.executable).parent
    ):
        return ["-m", "provider_store", *[str(a) for a in args[1:]]]
    return None


class ForkedProcess:
    """A child of the zygote, with the parts of :class:`subprocess.Popen` the tests use."""

    def __init__(
        self,
        args: list[str],
        path: str,
        *,
        stdin: int | IO[Any] | None = None,
        stdout: int | IO[Any] | None = None,
        stderr: int | IO[Any] | None = None,
        text: bool = False,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.args = args
        self.returncode: int | None = None
        ends: list[int] = []
        mine: list[int | None] = []
        for index, wanted in enumerate((stdin, stdout, stderr)):
            child_end, my_end = _stream(index, wanted)
            ends.append(child_end)
            mine.append(my_end)
        request = {
            "args": args,
            "env": dict(os.environ if env is None else env),
            "cwd": str(cwd if cwd is not None else os.getcwd()),
            "umask": _current_umask(),
        }
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._conn.connect(path)
        socket.send_fds(self._conn, [json.dumps(request).encode()], ends)
        for fd in ends:
            os.close(fd)
        self._reader = self._conn.makefile("r")
        line = self._reader.readline()
        self.pid = int(line.split()[1])
        suffix = "" if text else "b"
        self.stdin = None if mine[0] is None else open(mine[0], "w" + suffix)  # noqa: SIM115
        self.stdout = None if mine[1] is None else open(mine[1], "r" + suffix)  # noqa: SIM115
        self.stderr = None if mine[2] is None else open(mine[2], "r" + suffix)  # noqa: SIM115

    def poll(self) -> int | None:
        if self.returncode is None:
            readable, _, _ = select.select([self._conn], [], [], 0)
            if readable:
                self._read_exit()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            readable, _, _ = select.select([self._conn], [], [], timeout)
            if not readable:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            self._read_exit()
        assert self.returncode is not None
        return self.returncode

    def _read_exit(self) -> None:
        line = self._reader.readline()
        self.returncode = int(line.split()[1]) if line.startswith("exit ") else -9
        self._reader.close()
        self._conn.close()

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(
        self, input: str | bytes | None = None, timeout: float | None = None
    ) -> tuple[Any, Any]:
        results: dict[str, Any] = {}

        def drain(name: str, stream: IO[Any] | None) -> None:
            if stream is not None:
                results[name] = stream.read()
                stream.close()

        readers = [
            threading.Thread(target=drain, args=(name, stream), daemon=True)
            for name, stream in (("out", self.stdout), ("err", self.stderr))
        ]
        for reader in readers:
            reader.start()
        if self.stdin is not None:
            try:
                if input:
                    self.stdin.write(input)
                self.stdin.close()
            except BrokenPipeError:
                pass
        started = time.monotonic()
        for reader in readers:
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            reader.join(left)
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
        self.wait(left)
        return results.get("out"), results.get("err")

    def __enter__(self) -> ForkedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.stdin, self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self.wait()


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _stream(index: int, wanted: int | IO[Any] | None) -> tuple[int, int | None]:
    """(the child's end, our end or None) of standard stream ``index``."""
    if wanted == PIPE:
        read, write = os.pipe()
        return (read, write) if index == 0 else (write, read)
    if wanted == DEVNULL:
        return os.open(os.devnull, os.O_RDWR), None
    if wanted is None:
        return os.dup(index), None
    if isinstance(wanted, int):
        return os.dup(wanted), None
    return os.dup(wanted.fileno()), None


def Popen(args: list[Any], **kwargs: Any) -> Any:  # noqa: N802 - stands for subprocess.Popen
    """``subprocess.Popen(args, **kwargs)``, forked from the zygote when ``args`` runs Python."""
    python = _python_args(list(args))
    supported = set(kwargs) <= {"stdin", "stdout", "stderr", "text", "env", "cwd"}
    env = kwargs.get("env")
    if env is not None and env.get("PYTHONPATH") != _ZYGOTE_PYTHONPATH:
        supported = False  # other modules could be meant than the zygote imported
    path = _socket_path() if python is not None and supported else None
    if path is None or python is None:
        return subprocess.Popen(args, **kwargs)
    return ForkedProcess(python, path, **kwargs)


def run(
    args: list[Any],
    *,
    input: str | bytes | None = None,
    capture_output: bool = False,
    timeout: float | None = None,
    check: bool = False,
    **kwargs: Any,
) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run``, through :func:`Popen`."""
    if capture_output:
        kwargs["stdout"] = kwargs["stderr"] = PIPE
    if input is not None:
        kwargs["stdin"] = PIPE
    proc = Popen(args, **kwargs)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    done = subprocess.CompletedProcess(args, proc.returncode, out, err)
    if check:
        done.check_returncode()
    return done


if __name__ == "__main__":
    _serve(sys.argv[1])
