"""sluice_pipe.spread: records shared among DataLoader workers, and who may take part."""
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
import unittest
from unittest import mock

from sluice_pipe import spread

from .test_channel import TIMEOUT

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Follower(threading.Thread):
    """A follower in a thread of this process (its parent is this process's parent: a sibling)."""

    def __init__(self, name, token, worker_id=1):
        super().__init__(daemon=True)
        self.args = (name, token, worker_id, TIMEOUT)
        self.got = []
        self.error = None

    def run(self):
        try:
            for record in spread.follow(*self.args):
                self.got.append(record)
        except BaseException as exc:
            self.error = exc


def run_child(code, *args):
    """A process that is not a sibling: a child of this one."""
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=PYTHON_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class SpreadTest(unittest.TestCase):
    def setUp(self):
        self.token = spread.new_token()
        self.name = spread.socket_name(self.token, f"{self.id()}/{os.getpid()}")

    def lead(self, followers):
        lead = spread.Lead(self.name, self.token, followers, TIMEOUT)
        self.addCleanup(lead.close)
        return lead

    def test_the_name_does_not_show_the_token(self):
        self.assertTrue(self.name.startswith(b"\0sluice-pipe-"))
        self.assertNotIn(self.token.hex().encode(), self.name)
        self.assertNotEqual(self.name, spread.socket_name(self.token, "other"))

    def test_every_record_reaches_exactly_one_worker(self):
        lead = self.lead(2)
        followers = [Follower(self.name, self.token, k) for k in (1, 2)]
        for f in followers:
            f.start()
        records = [b"%05d" % i * (1 + i % 7) for i in range(3000)] + [b""]
        own = []
        done = threading.Event()

        def consume():
            own.extend(lead.own())
            done.set()

        threading.Thread(target=consume, daemon=True).start()
        with mock.patch.object(spread, "FOLLOWER_GRACE", TIMEOUT):
            for r in records:
                lead.dispatch(r)
        lead.finish()
        for f in followers:
            f.join(TIMEOUT)
            self.assertIsNone(f.error)
        self.assertTrue(done.wait(TIMEOUT))
        self.assertEqual(sorted(own + followers[0].got + followers[1].got), sorted(records))
        self.assertTrue(all(len(x) >= 900 for x in (own, followers[0].got, followers[1].got)))

    def test_the_lead_process_exits_only_after_the_followers_have_everything(self):
        # As in a DataLoader: the lead's own records end, its process exits (the DataLoader stops
        # a worker whose iteration ended) while a slower follower still has records queued for
        # it, more than the socket holds. Every one of them must still arrive, then the end.
        ctx = multiprocessing.get_context("fork")
        results = ctx.Queue()
        lead = ctx.Process(target=_lead_process, args=(self.name, self.token))
        follower = ctx.Process(target=_slow_follower_process, args=(self.name, self.token, results))
        follower.start()
        lead.start()
        try:
            got, error = results.get(timeout=TIMEOUT)
        finally:
            for p in (lead, follower):
                p.join(TIMEOUT)
                if p.is_alive():
                    p.kill()
                    p.join()
        self.assertIsNone(error)
        self.assertEqual(lead.exitcode, 0)
        self.assertGreater(got, 100)

    def test_a_late_follower_gets_the_end(self):
        lead = self.lead(1)
        with mock.patch.object(spread, "FOLLOWER_GRACE", 0.1):
            lead.dispatch(b"one")   # no follower yet: the grace passes
        lead.finish()
        f = Follower(self.name, self.token)
        f.start()
        f.join(TIMEOUT)
        self.assertIsNone(f.error)
        self.assertEqual(list(lead.own()), [b"one"])

    def test_the_leads_failure_reaches_the_followers(self):
        lead = self.lead(1)
        f = Follower(self.name, self.token)
        f.start()
        with mock.patch.object(spread, "FOLLOWER_GRACE", TIMEOUT):
            lead.dispatch(b"a")
            lead.dispatch(b"b")
        lead.fail(ValueError("bad magic at byte 12"))
        f.join(TIMEOUT)
        self.assertIsInstance(f.error, spread.SpreadError)
        self.assertIn("ValueError: bad magic at byte 12", str(f.error))
        with self.assertRaisesRegex(ValueError, "bad magic"):
            list(lead.own())

    def test_a_lead_closed_early_ends_its_followers_with_an_error(self):
        lead = self.lead(1)
        f = Follower(self.name, self.token)
        f.start()
        with mock.patch.object(spread, "FOLLOWER_GRACE", TIMEOUT):
            lead.dispatch(b"a")
        lead.close()
        f.join(TIMEOUT)
        self.assertIsInstance(f.error, spread.SpreadError)
        self.assertIn("stopped before the end", str(f.error))
        with self.assertRaises(spread.SpreadError):
            lead.dispatch(b"more")

    def test_a_wrong_token_gets_nothing(self):
        lead = self.lead(2)
        stranger = Follower(self.name, spread.new_token(), 1)
        stranger.start()
        stranger.join(TIMEOUT)
        self.assertIsInstance(stranger.error, spread.SpreadError)
        friend = Follower(self.name, self.token, 2)
        friend.start()
        with mock.patch.object(spread, "FOLLOWER_GRACE", 0.5):
            for i in range(10):
                lead.dispatch(b"%d" % i)
        lead.finish()
        friend.join(TIMEOUT)
        self.assertIsNone(friend.error)
        self.assertEqual(stranger.got, [])
        self.assertEqual(len(friend.got) + len(list(lead.own())), 10)

    def test_a_process_that_is_not_a_worker_gets_nothing(self):
        # It knows the name and the token, but its parent is not the lead's parent.
        lead = self.lead(1)
        child = run_child(
            "import socket, struct, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "name = bytes.fromhex(sys.argv[1])\n"
            "for _ in range(500):\n"
            "    try:\n"
            "        s.connect(name); break\n"
            "    except OSError:\n"
            "        import time; time.sleep(0.01)\n"
            "got = b''\n"
            "try:\n"   # the lead may close before the hello is sent: a broken pipe
            "    s.sendall(bytes.fromhex(sys.argv[2]) + struct.pack('<I', 1))\n"
            "    s.settimeout(10)\n"
            "    while True:\n"
            "        b = s.recv(65536)\n"
            "        if not b: break\n"
            "        got += b\n"
            "except (BrokenPipeError, ConnectionResetError):\n"
            "    pass\n"
            "print(len(got))\n",
            self.name.hex(), self.token.hex())
        self.addCleanup(child.kill)
        with mock.patch.object(spread, "FOLLOWER_GRACE", 1.0):
            for i in range(5):
                lead.dispatch(b"secret-%d" % i)
        lead.finish()
        out, err = child.communicate(timeout=TIMEOUT)
        self.assertEqual(child.returncode, 0, err)
        self.assertEqual(out.strip(), "0")
        self.assertEqual(len(list(lead.own())), 5)

    def test_a_squatter_on_the_name_gets_no_token_and_sends_no_record(self):
        child = run_child(
            "import socket, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "s.bind(bytes.fromhex(sys.argv[1])); s.listen(1)\n"
            "print('ready', flush=True)\n"
            "c, _ = s.accept()\n"
            "c.settimeout(5)\n"
            "got = b''\n"
            "try:\n"   # the follower may have hung up already: the send fails, and nothing came
            "    c.sendall(b'\\x03' + bytes(7) + b'bad')\n"
            "    while True:\n"
            "        b = c.recv(65536)\n"
            "        if not b: break\n"
            "        got += b\n"
            "except OSError:\n"
            "    pass\n"
            "print(len(got))\n",
            self.name.hex())
        self.addCleanup(child.kill)
        self.assertEqual(child.stdout.readline().strip(), "ready")
        with self.assertRaisesRegex(spread.SpreadError, "cannot listen"):
            spread.Lead(self.name, self.token, 1, TIMEOUT).close()   # the name is taken
        f = Follower(self.name, self.token)
        f.start()
        f.join(TIMEOUT)
        self.assertIsInstance(f.error, spread.SpreadError)
        self.assertIn("not a worker of this DataLoader", str(f.error))
        self.assertEqual(f.got, [])
        out, err = child.communicate(timeout=TIMEOUT)
        self.assertEqual(out.split()[-1], "0", err)   # the token was never sent

    def test_a_connection_that_breaks_mid_record_is_an_error(self):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(self.name)
        listener.listen(1)
        self.addCleanup(listener.close)

        def serve():
            c, _ = listener.accept()
            c.recv(64)
            c.sendall((100).to_bytes(8, "little") + b"only part")
            c.close()

        threading.Thread(target=serve, daemon=True).start()
        f = Follower(self.name, self.token)
        f.start()
        f.join(TIMEOUT)
        self.assertIsInstance(f.error, spread.SpreadError)
        self.assertIn("inside a message", str(f.error))


def _lead_process(name, token):
    """Dispatches 240 records of 64 KiB between itself and one follower, drains its own, and
    returns: the process exits as a DataLoader worker's does (multiprocessing's bootstrap)."""
    lead = spread.Lead(name, token, 1, TIMEOUT)
    spread.FOLLOWER_GRACE = TIMEOUT
    reader = threading.Thread(target=lambda: [lead.dispatch(b"%04d" % i + bytes(64 << 10)) for i in range(240)]
                              + [lead.finish()], daemon=True)
    reader.start()
    for _ in lead.own():
        pass


def _slow_follower_process(name, token, results):
    got, error = 0, None
    try:
        for i, _ in enumerate(spread.follow(name, token, 1, TIMEOUT)):
            if i == 0:
                time.sleep(1.0)   # the lead's own records end meanwhile
            got += 1
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
    results.put((got, error))


if __name__ == "__main__":
    unittest.main()
