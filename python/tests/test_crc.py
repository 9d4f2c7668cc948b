import random
import unittest

from sluice_pipe import crc


def reference(data, value=0):
    """The textbook bit-at-a-time CRC-32C."""
    value ^= 0xFFFFFFFF
    for byte in data:
        value ^= byte
        for _ in range(8):
            value = (value >> 1) ^ 0x82F63B78 if value & 1 else value >> 1
    return value ^ 0xFFFFFFFF


class Crc32cTest(unittest.TestCase):
    IMPLEMENTATIONS = [("selected", crc.crc32c), ("python", crc.crc32c_python)]

    def test_check_value(self):
        for name, fn in self.IMPLEMENTATIONS:
            with self.subTest(name):
                self.assertEqual(fn(b"123456789"), 0xE3069283)
                self.assertEqual(fn(bytearray(b"123456789")), 0xE3069283)
                self.assertEqual(fn(memoryview(b"123456789")), 0xE3069283)
                self.assertEqual(fn(b""), 0)

    def test_known_values(self):
        # RFC 3720 B.4: 32 bytes of zeros, of 0xff, an incrementing and a decrementing sequence.
        cases = [(bytes(32), 0x8A9136AA), (b"\xff" * 32, 0x62A8AB43),
                 (bytes(range(32)), 0x46DD794E), (bytes(range(31, -1, -1)), 0x113FDB5C)]
        for name, fn in self.IMPLEMENTATIONS:
            for data, want in cases:
                with self.subTest(name, data=data[:4]):
                    self.assertEqual(fn(data), want)

    def test_continues_like_zlib(self):
        rng = random.Random(7)
        data = rng.randbytes(5000)
        for name, fn in self.IMPLEMENTATIONS:
            for cut in (0, 1, 3, 4, 255, 256, 257, 4999, 5000):
                with self.subTest(name, cut=cut):
                    self.assertEqual(fn(data[cut:], fn(data[:cut])), fn(data))

    def test_python_matches_reference_on_every_path(self):
        # Short inputs take the byte loop, longer ones the lanes (of every width), and inputs past
        # a segment are cut into segments; each must agree with the bit-at-a-time definition.
        rng = random.Random(11)
        sizes = list(range(0, 40)) + [crc._LANES_MIN - 1, crc._LANES_MIN, crc._LANES_MIN + 1]
        sizes += [300, 1000, 1023, 4096, 4099, 16385, 65536 + 5, 262144 + 3]
        sizes += [crc._SEGMENT - 1, crc._SEGMENT, crc._SEGMENT + 1,
                  crc._SEGMENT + crc._LANES_MIN - 1, crc._SEGMENT + crc._LANES_MIN,
                  2 * crc._SEGMENT + 4]
        for size in sizes:
            data = rng.randbytes(size)
            start = rng.getrandbits(32)
            want = crc._bytewise(start ^ 0xFFFFFFFF, data) ^ 0xFFFFFFFF
            with self.subTest(size=size):
                self.assertEqual(crc.crc32c_python(data, start), want)
                self.assertEqual(crc.crc32c(data, start), want)
        for size in (0, 1, 9, 300, 1500):
            data = rng.randbytes(size)
            with self.subTest("bitwise", size=size):
                self.assertEqual(crc.crc32c_python(data), reference(data))

    def test_many(self):
        # Batches of equal lengths, of mixed lengths within a length class, tiny and big ones.
        rng = random.Random(13)
        batches = [[], [b""], [rng.randbytes(100) for _ in range(300)],
                   [rng.randbytes(rng.randrange(64, 128)) for _ in range(200)],
                   [rng.randbytes(rng.randrange(0, 8)) for _ in range(50)],
                   [rng.randbytes(rng.choice((3, 50, 1000, 70000))) for _ in range(100)],
                   [rng.randbytes(1000) for _ in range(40)] + [rng.randbytes(20) for _ in range(20)]]
        for batch in batches:
            want = [crc._bytewise(0xFFFFFFFF, p) ^ 0xFFFFFFFF for p in batch]
            with self.subTest(count=len(batch)):
                self.assertEqual(crc.crc32c_python_many(batch), want)
                self.assertEqual(crc.crc32c_many(batch), want)

    def test_mask(self):
        self.assertEqual(crc.mask(0), 0xA282EAD8)
        # the TFRecord vectors: the masked CRCs of 8 zero bytes and of b"abc"
        self.assertEqual(crc.masked_crc32c(bytes(8)), 0x07980329)
        self.assertEqual(crc.masked_crc32c(b"abc"), 0x21F1576E)
        rng = random.Random(3)
        for _ in range(1000):
            value = rng.getrandbits(32)
            self.assertEqual(crc.unmask(crc.mask(value)), value)

    def test_implementation_is_named(self):
        self.assertIn(crc.IMPLEMENTATION, ("google_crc32c", "crc32c", "python"))


if __name__ == "__main__":
    unittest.main()
