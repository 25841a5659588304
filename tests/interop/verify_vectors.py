#!/usr/bin/env python3
"""Independent re-derivation of Parley's published protocol vectors.

    python3 tests/interop/verify_vectors.py docs/vectors
    python3 tests/interop/verify_vectors.py docs/vectors --self-test

Reads docs/vectors/conversation-v1.json and safety-number-v1.json and recomputes every value in
them from the private keys and plaintexts they record, following docs/protocol.md, with Python's
standard library and the `cryptography` package only (Debian 12's python3-cryptography 38.0.4 or
newer). Nothing here shares code with the C# implementation that generated the files: a mismatch
means the spec, the vectors and the code disagree.

What it computes: the deterministic byte stream every private key came from (SHA-256 counter
mode); X25519 and Ed25519 public keys; the Ed25519 signatures (deterministic, so they must match
exactly) and their exact inputs; Encode(IK) and fingerprints; the PQXDH DH values, key material
and SK; every Double Ratchet root, chain and message key, header, associated data and AES-256-GCM
ciphertext, with its own model of the ratchet state (skipped keys, retired chains) and of which
error a bad message must produce; and the protobuf encoding of every message (a hand-written wire
reader and encoder, no protobuf package). ML-KEM-768 is re-derived only if the installed
`cryptography` has it (46 and later); otherwise the KEM shared secret is taken as given, as the
vectors say, and only the structure of the FIPS 203 keys is checked.

Every value in the files must be either recomputed or consumed as an input to something that is:
a value nothing looks at is reported as a failure, so altering any byte of any value (other than
free-text "description" notes) makes this script exit non-zero.
--self-test demonstrates that: it alters each value in turn and requires a failure every time.

Prints one line per check group and "N checks passed"; exits 1 on any mismatch.
"""

import copy
import hashlib
import hmac
import io
import json
import os
import struct
import sys

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

try:  # cryptography >= 46
    from cryptography.hazmat.primitives.asymmetric import mlkem
except ImportError:  # Debian 12: cryptography 38
    mlkem = None

import cryptography

# --- docs/protocol.md §2: the constants, spelled out here independently of the JSON ------------

IDENTITY_DH_LABEL = b"parley-identity-dh-v1"
SIGNED_PRE_KEY_LABEL = b"parley-spk-v1"
KEM_PRE_KEY_LABEL = b"parley-kem-v1"
PQXDH_INFO = b"Parley_PQXDH_X25519_SHA-256_ML-KEM-768"
ROOT_CHAIN_INFO = b"Parley_Ratchet_RootChain_v1"
PQXDH_F = b"\xff" * 32
PQXDH_SALT = b"\x00" * 32
MESSAGE_KEY_SEED = b"\x01"
CHAIN_KEY_SEED = b"\x02"
AEAD_NONCE = b"\x00" * 12
PROTOCOL_VERSION = 1
MAX_SKIP = 1000
MAX_STORED_SKIPPED_KEYS = 2000
MAX_RETIRED_CHAINS = 8
SAFETY_ITERATIONS = 5200
SAFETY_VERSION = 0
ML_KEM_768_PUBLIC = 1184
ML_KEM_768_SECRET = 2400
ML_KEM_768_CIPHERTEXT = 1088

FREE_TEXT_KEYS = {"description"}
RAW = serialization.Encoding.Raw


class Mismatch(Exception):
    pass


# --- primitives -------------------------------------------------------------------------------

def x25519_public(private):
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def dh(private, public):
    return X25519PrivateKey.from_private_bytes(private).exchange(X25519PublicKey.from_public_bytes(public))


def ed25519_public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def ed25519_sign(seed, message):
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def ed25519_verifies(public, message, signature):
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except InvalidSignature:
        return False


def hkdf(ikm, salt, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def kdf_rk(root_key, dh_output):
    """§6.1 KDF_RK: HKDF-SHA256(salt = rk, ikm = dh, info = ROOT_CHAIN_INFO, 64) = rk' || ck."""
    out = hkdf(dh_output, root_key, ROOT_CHAIN_INFO, 64)
    return out[:32], out[32:]


def kdf_ck(chain_key):
    """§6.1 KDF_CK: mk = HMAC-SHA256(ck, 0x01), ck' = HMAC-SHA256(ck, 0x02)."""
    return (hmac.new(chain_key, MESSAGE_KEY_SEED, hashlib.sha256).digest(),
            hmac.new(chain_key, CHAIN_KEY_SEED, hashlib.sha256).digest())


def u32(value):
    return struct.pack(">I", value)


def hx(data):
    return data.hex()


# --- protobuf wire format (proto3), by hand -----------------------------------------------------

def read_varint(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise Mismatch("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def parse_fields(data):
    """Returns {field number: [values]}: ints for varints, bytes for length-delimited fields."""
    fields = {}
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = read_varint(data, pos)
        elif wire_type == 2:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise Mismatch("length-delimited field runs past the end")
            value, pos = data[pos:pos + length], pos + length
        else:
            raise Mismatch("wire type %d not used by Parley" % wire_type)
        fields.setdefault(number, []).append(value)
    return fields


def last(fields, number, default):
    """proto3: a repeated scalar occurrence is the last one; an absent field is its default."""
    return fields[number][-1] if number in fields else default


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode(*fields):
    """Canonical proto3 encoding as Google.Protobuf writes it: field-number order, default
    scalars omitted, set sub-messages always written. fields: (number, kind, value)."""
    out = bytearray()
    for number, kind, value in fields:
        if kind == "uint" and value:
            out += varint(number << 3) + varint(value)
        elif kind == "bool" and value:
            out += varint(number << 3) + b"\x01"
        elif kind == "bytes" and value:
            out += varint(number << 3 | 2) + varint(len(value)) + value
        elif kind == "message" and value is not None:
            out += varint(number << 3 | 2) + varint(len(value)) + value
    return bytes(out)


def encode_public_identity(identity):
    return encode((1, "bytes", identity["signing"]), (2, "bytes", identity["dh"]), (3, "bytes", identity["signature"]))


def encode_ratchet_message(version, header, ciphertext):
    return encode((1, "uint", version), (2, "bytes", header), (3, "bytes", ciphertext))


# --- the vectors, with a record of which values have been checked or used ------------------------

class Vectors:
    def __init__(self, data):
        self.data = data
        self.seen = set()

    def raw(self, path):
        node = self.data
        for key in path:
            node = node[key]
        return node

    def get(self, *path):
        value = self.raw(path)
        if isinstance(value, (dict, list)):
            raise Mismatch("%s is not a value" % "/".join(map(str, path)))
        self.seen.add(tuple(path))
        return value

    def bytes(self, *path):
        value = self.get(*path)
        if not isinstance(value, str):
            raise Mismatch("%s is not hex" % "/".join(map(str, path)))
        return bytes.fromhex(value)

    def leaves(self, node=(), path=()):
        node = self.data if path == () else node
        if isinstance(node, dict):
            for key, value in node.items():
                yield from self.leaves(value, path + (key,))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from self.leaves(value, path + (index,))
        else:
            yield path


class Checks:
    def __init__(self, out):
        self.out = out
        self.total = 0
        self.group = None
        self.group_count = 0

    def start(self, group):
        self.finish()
        self.group = group
        self.group_count = 0

    def finish(self):
        if self.group is not None:
            print("ok  %-44s %4d checks" % (self.group, self.group_count), file=self.out)
        self.group = None

    def ok(self, condition, what):
        if not condition:
            raise Mismatch("%s: %s" % (self.group, what))
        self.total += 1
        self.group_count += 1

    def value(self, vectors, path, computed):
        """The JSON value at path must equal computed (bytes compare as lowercase hex)."""
        if isinstance(computed, (bytes, bytearray)):
            computed = hx(computed)
        actual = vectors.get(*path)
        self.ok(type(actual) is type(computed) and actual == computed,
                "%s: expected %s, vectors have %s" % ("/".join(map(str, path)), short(computed), short(actual)))

    def tree(self, vectors, path, computed):
        """Compares a computed tree (dicts, lists, values) with the JSON at path, key by key."""
        actual = vectors.raw(path)
        if isinstance(computed, dict):
            self.ok(isinstance(actual, dict) and set(actual) == set(computed),
                    "%s: keys %s, expected %s" % ("/".join(map(str, path)), sorted(actual) if isinstance(actual, dict) else actual, sorted(computed)))
            for key, value in computed.items():
                self.tree(vectors, path + (key,), value)
        elif isinstance(computed, list):
            self.ok(isinstance(actual, list) and len(actual) == len(computed), "%s: list length" % "/".join(map(str, path)))
            for index, value in enumerate(computed):
                self.tree(vectors, path + (index,), value)
        else:
            self.value(vectors, path, computed)


def short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- the deterministic stream (appendix A) ------------------------------------------------------

class Draws:
    def __init__(self, vectors, checks):
        seed = vectors.get("random_stream", "seed").encode("utf-8")
        draws = vectors.raw(("random_stream", "draws"))
        total = sum(len(d["bytes"]) // 2 for d in draws)
        stream = b"".join(hashlib.sha256(seed + struct.pack(">Q", i)).digest() for i in range((total + 31) // 32))
        self.by_purpose = {}
        self.used = set()
        offset = 0
        for index in range(len(draws)):
            purpose = vectors.get("random_stream", "draws", index, "purpose")
            data = vectors.bytes("random_stream", "draws", index, "bytes")
            checks.ok(purpose not in self.by_purpose, "draw %s named twice" % purpose)
            checks.value(vectors, ("random_stream", "draws", index, "offset"), offset)
            checks.ok(data == stream[offset:offset + len(data)], "draw %s is not the stream's bytes at %d" % (purpose, offset))
            self.by_purpose[purpose] = data
            offset += len(data)

    def take(self, purpose, length):
        if purpose not in self.by_purpose:
            raise Mismatch("no draw named %s" % purpose)
        if purpose in self.used:
            raise Mismatch("draw %s used twice" % purpose)
        if len(self.by_purpose[purpose]) != length:
            raise Mismatch("draw %s is not %d bytes" % (purpose, length))
        self.used.add(purpose)
        return self.by_purpose[purpose]


# --- the Double Ratchet (§6), as a second implementation ---------------------------------------

class Ratchet:
    def __init__(self, party, ad_prefix, root_key, sending_private, receiving_public, sending_chain, initiator):
        self.party = party
        self.ad_prefix = ad_prefix
        self.root_key = root_key
        self.sending_private = sending_private
        self.sending_public = x25519_public(sending_private)
        self.receiving_public = receiving_public
        self.sending_chain = sending_chain
        self.receiving_chain = None
        self.ns = self.nr = self.pn = 0
        self.skipped = []   # [ratchet_public, counter, message_key], oldest first
        self.retired = []   # [ratchet_public, next_counter], oldest first
        self.awaiting_reply = initiator
        self.ratchet_keys = 1 if initiator else 0
        self.discarded_keys = 0

    def state(self):
        return {
            "root_key": hx(self.root_key),
            "sending_ratchet_private": hx(self.sending_private),
            "sending_ratchet_public": hx(self.sending_public),
            "receiving_ratchet_public": hx(self.receiving_public) if self.receiving_public else None,
            "sending_chain_key": hx(self.sending_chain) if self.sending_chain else None,
            "receiving_chain_key": hx(self.receiving_chain) if self.receiving_chain else None,
            "sending_counter": self.ns,
            "receiving_counter": self.nr,
            "previous_sending_counter": self.pn,
            "skipped": [{"ratchet_public": hx(k), "counter": n, "message_key": hx(m)} for k, n, m in self.skipped],
            "retired": [{"ratchet_public": hx(k), "next_counter": n} for k, n in self.retired],
        }

    def encrypt(self, plaintext):
        header = self.sending_public + u32(self.pn) + u32(self.ns)
        message_key, next_chain = kdf_ck(self.sending_chain)
        ad = self.ad_prefix + header
        ciphertext = AESGCM(message_key).encrypt(AEAD_NONCE, plaintext, ad)
        record = {
            "header": header_json(header),
            "sending_chain": {"chain_key": hx(self.sending_chain), "message_key": hx(message_key), "next_chain_key": hx(next_chain)},
            "associated_data": hx(ad),
            "ciphertext": hx(ciphertext),
        }
        self.sending_chain = next_chain
        self.ns += 1
        return header, ciphertext, record

    def decrypt(self, header, ciphertext, draws, expect_failure):
        """RatchetDecrypt with Parley's error classification. Returns (record, plaintext, error);
        the state changes only when the message authenticates (§8)."""
        if len(header) != 40:
            return {}, None, "Malformed"
        ratchet_key, pn, n = header[:32], struct.unpack(">I", header[32:36])[0], struct.unpack(">I", header[36:])[0]
        ad = self.ad_prefix + header
        record = {"header": header_json(header), "associated_data": hx(ad)}

        for index, (key, counter, message_key) in enumerate(self.skipped):
            if key == ratchet_key and counter == n:
                record["path"] = "skipped_key"
                record["message_key"] = hx(message_key)
                plaintext = aead_open(message_key, ciphertext, ad)
                if plaintext is None:
                    return record, None, "Tampered"
                del self.skipped[index]
                return record, plaintext, None

        if self.receiving_chain is not None and ratchet_key == self.receiving_public:
            record["path"] = "receiving_chain"
            if n < self.nr:
                return record, None, "Replayed"
            if n - self.nr > MAX_SKIP:
                return record, None, "TooFarAhead"
            new_skipped, message_key, next_chain = self.receive(self.receiving_chain, ratchet_key, self.nr, n, record)
            plaintext = aead_open(message_key, ciphertext, ad)
            if plaintext is None:
                return record, None, "Tampered"
            self.receiving_chain, self.nr = next_chain, n + 1
            self.add_skipped(new_skipped)
            self.awaiting_reply = False
            return record, plaintext, None

        for key, next_counter in self.retired:
            if key == ratchet_key:
                record["path"] = "retired_chain"
                record["retired_next_counter"] = next_counter
                return record, None, "Replayed" if n < next_counter else "Tampered"

        record["path"] = "dh_ratchet"
        has_old = self.receiving_chain is not None
        old_end = max(pn, self.nr) if has_old else 0
        if (has_old and old_end - self.nr > MAX_SKIP) or n > MAX_SKIP:
            return record, None, "TooFarAhead"
        step = {"remote_ratchet_public": hx(ratchet_key)}
        old_skipped = []
        if has_old:
            chain, keys = self.receiving_chain, []
            for counter in range(self.nr, old_end):
                message_key, chain = kdf_ck(chain)
                old_skipped.append([self.receiving_public, counter, message_key])
                keys.append({"counter": counter, "message_key": hx(message_key)})
            step["old_chain"] = {"ratchet_public": hx(self.receiving_public), "chain_key": hx(self.receiving_chain),
                                 "from_counter": self.nr, "until_counter": old_end, "skipped": keys}
        receive_dh = dh(self.sending_private, ratchet_key)
        middle_root, receiving_chain = kdf_rk(self.root_key, receive_dh)
        step["receiving_step"] = {"local_ratchet_private": hx(self.sending_private), "dh": hx(receive_dh),
                                  "root_key": hx(self.root_key), "next_root_key": hx(middle_root), "chain_key": hx(receiving_chain)}
        if expect_failure:
            purpose = "%s.discarded_key_%d.private" % (self.party, self.discarded_keys + 1)
        else:
            purpose = "%s.ratchet_key_%d.private" % (self.party, self.ratchet_keys + 1)
        new_private = draws.take(purpose, 32)
        new_public = x25519_public(new_private)
        send_dh = dh(new_private, ratchet_key)
        new_root, sending_chain = kdf_rk(middle_root, send_dh)
        step["new_ratchet_private"] = hx(new_private)
        step["new_ratchet_public"] = hx(new_public)
        step["sending_step"] = {"dh": hx(send_dh), "root_key": hx(middle_root), "next_root_key": hx(new_root), "chain_key": hx(sending_chain)}
        step["new_ratchet_draw"] = purpose
        record["dh_ratchet"] = step
        new_skipped, message_key, next_chain = self.receive(receiving_chain, ratchet_key, 0, n, record)
        plaintext = aead_open(message_key, ciphertext, ad)
        if plaintext is None:
            self.discarded_keys += 1
            return record, None, "Tampered"

        if has_old:
            self.add_skipped(old_skipped)
            self.retired.append([self.receiving_public, old_end])
            del self.retired[:-MAX_RETIRED_CHAINS]
        self.add_skipped(new_skipped)
        self.ratchet_keys += 1
        self.pn, self.ns, self.nr = self.ns, 0, n + 1
        self.sending_private, self.sending_public = new_private, new_public
        self.receiving_public = ratchet_key
        self.root_key, self.sending_chain, self.receiving_chain = new_root, sending_chain, next_chain
        self.awaiting_reply = False
        return record, plaintext, None

    @staticmethod
    def receive(chain, ratchet_key, start, n, record):
        first, skipped, keys = chain, [], []
        for counter in range(start, n):
            message_key, chain = kdf_ck(chain)
            skipped.append([ratchet_key, counter, message_key])
            keys.append({"counter": counter, "message_key": hx(message_key)})
        message_key, next_chain = kdf_ck(chain)
        record["receiving_chain"] = {"chain_key": hx(first), "from_counter": start, "skipped": keys,
                                     "message_key": hx(message_key), "next_chain_key": hx(next_chain)}
        return skipped, message_key, next_chain

    def add_skipped(self, keys):
        self.skipped.extend(keys)
        del self.skipped[:-MAX_STORED_SKIPPED_KEYS]


def header_json(header):
    return {"ratchet_public": hx(header[:32]), "previous_counter": struct.unpack(">I", header[32:36])[0],
            "counter": struct.unpack(">I", header[36:])[0], "bytes": hx(header)}


def aead_open(key, ciphertext, ad):
    try:
        return AESGCM(key).decrypt(AEAD_NONCE, ciphertext, ad)
    except InvalidTag:
        return None


# --- conversation-v1.json -----------------------------------------------------------------------

def verify_conversation(v, checks):
    checks.start("protocol version and constants")
    checks.value(v, ("protocol_version",), PROTOCOL_VERSION)
    for name, value in [("identity_dh_label", IDENTITY_DH_LABEL), ("signed_pre_key_label", SIGNED_PRE_KEY_LABEL),
                        ("kem_pre_key_label", KEM_PRE_KEY_LABEL), ("pqxdh_info", PQXDH_INFO),
                        ("root_chain_info", ROOT_CHAIN_INFO), ("pqxdh_f", PQXDH_F), ("pqxdh_salt", PQXDH_SALT),
                        ("message_key_seed", MESSAGE_KEY_SEED), ("chain_key_seed", CHAIN_KEY_SEED),
                        ("aead_nonce", AEAD_NONCE), ("max_skip", MAX_SKIP),
                        ("max_stored_skipped_keys", MAX_STORED_SKIPPED_KEYS), ("max_retired_chains", MAX_RETIRED_CHAINS)]:
        checks.value(v, ("constants", name), value)

    checks.start("random stream (SHA-256 counter mode)")
    draws = Draws(v, checks)

    checks.start("identities (Ed25519 + X25519, §3)")
    identities = {}
    for party in ("alice", "bob"):
        checks.value(v, (party, "name"), party)
        seed = draws.take(party + ".identity.signing_seed", 32)
        dh_private = draws.take(party + ".identity.dh_private", 32)
        signing, dh_public = ed25519_public(seed), x25519_public(dh_private)
        signature_input = IDENTITY_DH_LABEL + dh_public
        signature = ed25519_sign(seed, signature_input)
        checks.ok(ed25519_verifies(signing, signature_input, signature), "identity DH key signature verifies")
        checks.tree(v, (party, "identity"), {
            "signing_seed": hx(seed), "signing_public": hx(signing), "dh_private": hx(dh_private),
            "dh_public": hx(dh_public), "dh_signature_input": hx(signature_input), "dh_signature": hx(signature),
            "encoded": hx(signing + dh_public), "fingerprint": hashlib.sha256(signing).hexdigest()})
        identities[party] = {"seed": seed, "signing": signing, "dh_private": dh_private, "dh": dh_public,
                             "signature": signature, "encoded": signing + dh_public}

    checks.start("bob's prekeys and their signatures (§4)")
    bob_seed = identities["bob"]["seed"]
    spk_id = v.get("bob", "signed_pre_key", "id")
    spk_private = draws.take("bob.signed_pre_key.private", 32)
    spk_public = x25519_public(spk_private)
    spk_input = SIGNED_PRE_KEY_LABEL + u32(spk_id) + spk_public
    spk = {"id": spk_id, "private": spk_private, "public": spk_public, "signature": ed25519_sign(bob_seed, spk_input)}
    checks.tree(v, ("bob", "signed_pre_key"), {"id": spk_id, "private": hx(spk_private), "public": hx(spk_public),
                                                "signature_input": hx(spk_input), "signature": hx(spk["signature"])})
    opk_id = v.get("bob", "one_time_pre_key", "id")
    opk_private = draws.take("bob.one_time_pre_key.private", 32)
    opk = {"id": opk_id, "private": opk_private, "public": x25519_public(opk_private)}
    checks.tree(v, ("bob", "one_time_pre_key"), {"id": opk_id, "private": hx(opk_private), "public": hx(opk["public"])})

    kem_id = v.get("bob", "kem_pre_key", "id")
    last_resort = v.get("bob", "kem_pre_key", "last_resort")
    checks.ok(isinstance(last_resort, bool), "last_resort is a boolean")
    kem_seed = draws.take("bob.kem_pre_key.seed", 64)
    kem_public = v.bytes("bob", "kem_pre_key", "public")
    kem_secret = v.bytes("bob", "kem_pre_key", "secret")
    checks.ok(len(kem_public) == ML_KEM_768_PUBLIC, "ML-KEM-768 encapsulation key is 1184 bytes")
    # FIPS 203 §7.1: dk = dk_PKE (1152) || ek (1184) || H(ek) (32) || z (32); seed = d || z.
    checks.ok(len(kem_secret) == ML_KEM_768_SECRET, "ML-KEM-768 decapsulation key is 2400 bytes")
    checks.ok(kem_secret[1152:2336] == kem_public, "dk contains ek")
    checks.ok(kem_secret[2336:2368] == hashlib.sha3_256(kem_public).digest(), "dk contains H(ek) = SHA3-256(ek)")
    checks.ok(kem_secret[2368:] == kem_seed[32:], "dk ends with z, the second half of the seed")
    if mlkem is not None:
        regenerated = mlkem.MLKEM768PrivateKey.from_seed_bytes(kem_seed)
        checks.ok(regenerated.public_key().public_bytes_raw() == kem_public, "ML-KEM-768 KeyGen(d, z) gives the recorded ek")
    kem_input = KEM_PRE_KEY_LABEL + u32(kem_id) + (b"\x01" if last_resort else b"\x00") + kem_public
    kem = {"id": kem_id, "last_resort": last_resort, "public": kem_public, "secret": kem_secret,
           "signature": ed25519_sign(bob_seed, kem_input)}
    for name, value in [("seed", kem_seed), ("signature_input", kem_input), ("signature", kem["signature"])]:
        checks.value(v, ("bob", "kem_pre_key", name), value)
    for signed, signature_input, signature in [("spk", spk_input, spk["signature"]), ("kem", kem_input, kem["signature"])]:
        checks.ok(ed25519_verifies(identities["bob"]["signing"], signature_input, signature), signed + " signature verifies")

    checks.start("prekey bundle (protobuf)")
    bundle = v.bytes("bundle", "serialized")
    expected_bundle = encode(
        (1, "uint", PROTOCOL_VERSION),
        (2, "message", encode_public_identity(identities["bob"])),
        (3, "message", encode((1, "uint", spk_id), (2, "bytes", spk_public), (3, "bytes", spk["signature"]))),
        (4, "message", encode((1, "uint", kem_id), (2, "bytes", kem_public), (3, "bool", last_resort), (4, "bytes", kem["signature"]))),
        (5, "message", encode((1, "uint", opk_id), (2, "bytes", opk["public"]))))
    checks.ok(bundle == expected_bundle, "PreKeyBundle encoding")
    fields = parse_fields(bundle)
    checks.ok(last(fields, 1, 0) == PROTOCOL_VERSION, "PreKeyBundle.version (field 1)")
    identity = parse_fields(last(fields, 2, b""))
    checks.ok(ed25519_verifies(last(identity, 1, b""), IDENTITY_DH_LABEL + last(identity, 2, b""), last(identity, 3, b"")),
              "bundle identity: dh_key_signature verifies")
    signed = parse_fields(last(fields, 3, b""))
    checks.ok(ed25519_verifies(last(identity, 1, b""), SIGNED_PRE_KEY_LABEL + u32(last(signed, 1, 0)) + last(signed, 2, b""), last(signed, 3, b"")),
              "bundle signed prekey signature verifies")
    kem_wire = parse_fields(last(fields, 4, b""))
    checks.ok(ed25519_verifies(last(identity, 1, b""), KEM_PRE_KEY_LABEL + u32(last(kem_wire, 1, 0)) + bytes([last(kem_wire, 3, 0)]) + last(kem_wire, 2, b""),
                               last(kem_wire, 4, b"")), "bundle KEM prekey signature verifies")

    checks.start("PQXDH, initiator (§5)")
    alice, bob = identities["alice"], identities["bob"]
    ek_private = draws.take("alice.pqxdh.ephemeral_private", 32)
    ek_public = x25519_public(ek_private)
    encapsulation_m = draws.take("alice.pqxdh.kem_encapsulation_m", 32)
    kem_ciphertext = v.bytes("pqxdh", "kem_ciphertext")
    kem_shared = v.bytes("pqxdh", "kem_shared_secret")
    checks.ok(len(kem_ciphertext) == ML_KEM_768_CIPHERTEXT and len(kem_shared) == 32, "ML-KEM-768 ciphertext and secret sizes")
    if mlkem is not None:
        decapsulated = mlkem.MLKEM768PrivateKey.from_seed_bytes(kem_seed).decapsulate(kem_ciphertext)
        checks.ok(decapsulated == kem_shared, "ML-KEM-768 Decaps(dk, ct) = SS")
    dhs = [dh(alice["dh_private"], spk_public), dh(ek_private, bob["dh"]), dh(ek_private, spk_public), dh(ek_private, opk["public"])]
    material = PQXDH_F + b"".join(dhs) + kem_shared
    shared_secret = hkdf(material, PQXDH_SALT, PQXDH_INFO, 32)
    checks.tree(v, ("pqxdh",), {
        "description": v.get("pqxdh", "description"),
        "ephemeral_private": hx(ek_private), "ephemeral_public": hx(ek_public),
        "kem_encapsulation_m": hx(encapsulation_m), "kem_ciphertext": hx(kem_ciphertext), "kem_shared_secret": hx(kem_shared),
        "dh1": hx(dhs[0]), "dh2": hx(dhs[1]), "dh3": hx(dhs[2]), "dh4": hx(dhs[3]),
        "key_material": hx(material), "salt": hx(PQXDH_SALT), "info": hx(PQXDH_INFO), "shared_secret": hx(shared_secret)})

    checks.start("ratchet initialisation (§6.1)")
    ad_prefix = alice["encoded"] + bob["encoded"] + bytes([PROTOCOL_VERSION])
    checks.value(v, ("associated_data_prefix",), ad_prefix)
    alice_ratchet = draws.take("alice.ratchet_key_1.private", 32)
    init_dh = dh(alice_ratchet, spk_public)
    root, chain = kdf_rk(shared_secret, init_dh)
    checks.tree(v, ("ratchet_init", "alice"), {
        "ratchet_private": hx(alice_ratchet), "ratchet_public": hx(x25519_public(alice_ratchet)),
        "remote_ratchet_public": hx(spk_public), "dh": hx(init_dh), "root_key": hx(shared_secret),
        "next_root_key": hx(root), "sending_chain_key": hx(chain)})
    checks.tree(v, ("ratchet_init", "bob"), {
        "ratchet_private": hx(spk_private), "ratchet_public": hx(spk_public), "root_key": hx(shared_secret)})
    models = {"alice": Ratchet("alice", ad_prefix, root, alice_ratchet, spk_public, chain, initiator=True)}

    # Bob's prekey store (§5.4): consumed one-time keys are gone.
    store = {"signed": {spk_id: spk}, "one_time": {opk_id: opk}, "kem": {kem_id: kem}}
    pqxdh_fields = {"ek": ek_public, "ct": kem_ciphertext, "ss": kem_shared}
    sent = {}
    steps = v.raw(("steps",))
    checks.start("conversation steps (%d)" % len(steps))
    for index, step in enumerate(steps):
        path = ("steps", index)
        checks.value(v, path + ("step",), index + 1)
        action, party, name = v.get(*path, "action"), v.get(*path, "party"), v.get(*path, "message")
        if "description" in step:
            v.get(*path, "description")
        if action == "encrypt":
            verify_encrypt(v, checks, path, models[party], alice, pqxdh_fields, spk_id, kem_id, opk_id, sent, name)
        elif action == "accept":
            checks.ok(party == "bob", "the responder accepts")
            model = verify_accept(v, checks, path, draws, store, sent[name], identities, shared_secret, ad_prefix, spk_public)
            if model is not None:
                models["bob"] = model
        elif action == "decrypt":
            verify_decrypt(v, checks, path, draws, models[party], sent[name], ek_public, alice["signing"])
        else:
            raise Mismatch("unknown action %r" % action)

    checks.start("every random draw used once")
    unused = set(draws.by_purpose) - draws.used
    checks.ok(not unused, "draws never used: %s" % sorted(unused))


def verify_encrypt(v, checks, path, model, alice, pqxdh_fields, spk_id, kem_id, opk_id, sent, name):
    plaintext = v.bytes(*path, "plaintext")
    checks.value(v, path + ("plaintext_utf8",), plaintext.decode("utf-8"))
    header, ciphertext, record = model.encrypt(plaintext)
    ratchet = encode_ratchet_message(PROTOCOL_VERSION, header, ciphertext)
    if model.awaiting_reply:
        # PreKeyMessage (§5.3): IK_A, EK_A, the prekey ids, the KEM ciphertext, the first message.
        body = encode((1, "uint", PROTOCOL_VERSION), (2, "message", encode_public_identity(alice)), (3, "bytes", pqxdh_fields["ek"]),
                      (4, "uint", spk_id), (5, "uint", kem_id), (6, "bytes", pqxdh_fields["ct"]), (7, "bool", True),
                      (8, "uint", opk_id), (9, "message", ratchet))
        serialized, kind = encode((1, "message", body)), "pre_key"
    else:
        serialized, kind = encode((2, "message", ratchet)), "ratchet"
    record.update({"message_type": kind, "serialized": hx(serialized), "state_after": model.state()})
    for key, value in record.items():
        checks.tree(v, path + (key,), value)
    # And the other way round: read the bytes as a receiver would, and find the fields where §1 says.
    parsed = read_message(v.bytes(*path, "serialized"))
    checks.ok(parsed["header"] == header and parsed["ciphertext"] == ciphertext and parsed["kind"] == kind,
              "serialized message carries header and ciphertext in RatchetMessage fields 2 and 3")
    sent[name] = serialized


def read_message(data):
    """CiphertextMessage (§1): oneof pre_key = 1 | ratchet = 2; RatchetMessage: version 1, header 2, ciphertext 3."""
    fields = parse_fields(data)
    if set(fields) - {1, 2} or len(fields) != 1:
        raise Mismatch("CiphertextMessage must set exactly one of fields 1 and 2")
    result = {}
    if 1 in fields:
        pre_key = parse_fields(last(fields, 1, b""))
        identity = parse_fields(last(pre_key, 2, b""))
        result.update(kind="pre_key", version=last(pre_key, 1, 0), signing=last(identity, 1, b""), dh=last(identity, 2, b""),
                      dh_signature=last(identity, 3, b""), ek=last(pre_key, 3, b""), spk_id=last(pre_key, 4, 0),
                      kem_id=last(pre_key, 5, 0), kem_ciphertext=last(pre_key, 6, b""), has_opk=bool(last(pre_key, 7, 0)),
                      opk_id=last(pre_key, 8, 0))
        ratchet = parse_fields(last(pre_key, 9, b""))
    else:
        result["kind"] = "ratchet"
        ratchet = parse_fields(last(fields, 2, b""))
    result.update(ratchet_version=last(ratchet, 1, 0), header=last(ratchet, 2, b""), ciphertext=last(ratchet, 3, b""))
    return result


def verify_accept(v, checks, path, draws, store, serialized, identities, shared_secret, ad_prefix, spk_public):
    message = read_message(serialized)
    checks.ok(message["kind"] == "pre_key" and message["version"] == PROTOCOL_VERSION, "Accept takes a v1 PreKeyMessage")
    checks.ok(ed25519_verifies(message["signing"], IDENTITY_DH_LABEL + message["dh"], message["dh_signature"]), "IK_A's DH key signature verifies")
    spk = store["signed"].get(message["spk_id"])
    kem = store["kem"].get(message["kem_id"])
    opk = store["one_time"].get(message["opk_id"]) if message["has_opk"] else None
    if spk is None or kem is None or (message["has_opk"] and opk is None):
        checks.value(v, path + ("error",), "UnknownPreKey")
        return None

    bob = identities["bob"]
    dhs = [dh(spk["private"], message["dh"]), dh(bob["dh_private"], message["ek"]), dh(spk["private"], message["ek"])]
    if opk is not None:
        dhs.append(dh(opk["private"], message["ek"]))
    kem_shared = v.bytes("pqxdh", "kem_shared_secret")  # Decaps(dk, ct): given (see the vectors' pqxdh description)
    material = PQXDH_F + b"".join(dhs) + kem_shared
    responder_secret = hkdf(material, PQXDH_SALT, PQXDH_INFO, 32)
    checks.ok(responder_secret == shared_secret, "responder's SK equals initiator's SK")
    model = Ratchet("bob", ad_prefix, responder_secret, spk["private"], None, None, initiator=False)
    checks.ok(model.sending_public == spk_public, "the responder's first ratchet pair is its signed prekey pair")
    record, plaintext, error = model.decrypt(message["header"], message["ciphertext"], draws, expect_failure=False)
    checks.ok(error is None, "the PreKeyMessage decrypts")
    record["pqxdh_responder"] = {"dh1": hx(dhs[0]), "dh2": hx(dhs[1]), "dh3": hx(dhs[2]), "dh4": hx(dhs[3]),
                                 "key_material": hx(material), "shared_secret": hx(responder_secret)}
    record["plaintext"] = hx(plaintext)
    record["plaintext_utf8"] = plaintext.decode("utf-8")
    # Only now are the one-time prekey and a non-last-resort KEM prekey consumed.
    del store["one_time"][opk["id"]]
    record["consumed_one_time_pre_key_id"] = opk["id"]
    if not kem["last_resort"]:
        del store["kem"][kem["id"]]
        record["consumed_kem_pre_key_id"] = kem["id"]
    record["state_after"] = model.state()
    for key, value in record.items():
        checks.tree(v, path + (key,), value)
    return model


def verify_decrypt(v, checks, path, draws, model, serialized, base_key, remote_signing):
    step = v.raw(path)
    if "modification" in step:
        # Bytes an attacker altered: rebuild them from the genuine message and the stated change.
        original = read_message(serialized)
        checks.ok(original["kind"] == "ratchet", "modifications apply to RatchetMessages")
        fields = {"version": original["ratchet_version"], "header": original["header"], "ciphertext": original["ciphertext"]}
        field = v.get(*path, "modification", "field")
        if field == "version":
            fields["version"] = v.get(*path, "modification", "value")
        else:
            altered = bytearray(fields[field])
            altered[v.get(*path, "modification", "index")] ^= v.get(*path, "modification", "xor")
            fields[field] = bytes(altered)
        serialized = encode((2, "message", encode_ratchet_message(fields["version"], fields["header"], fields["ciphertext"])))
        checks.value(v, path + ("serialized",), serialized)
    expect_failure = "error" in step
    message = read_message(serialized)
    versions = [message["ratchet_version"]] + ([message["version"]] if message["kind"] == "pre_key" else [])
    if any(version != PROTOCOL_VERSION for version in versions):
        record, error = {}, "UnsupportedVersion"
    else:
        if message["kind"] == "pre_key":
            # A PreKeyMessage of the run that made this session (same EK_A, same IK_A) decrypts on it.
            checks.ok(model.party == "bob" and message["ek"] == base_key and message["signing"] == remote_signing,
                      "PreKeyMessage matches the existing session")
        record, plaintext, error = model.decrypt(message["header"], message["ciphertext"], draws, expect_failure)
        if error is None:
            record["plaintext"] = hx(plaintext)
            record["plaintext_utf8"] = plaintext.decode("utf-8")
    checks.ok((error is not None) == expect_failure, "step %d: outcome (%s)" % (path[1] + 1, error))
    if error is not None:
        record["error"] = error
    record["state_after"] = model.state()
    for key, value in record.items():
        checks.tree(v, path + (key,), value)


# --- safety-number-v1.json (§7) -----------------------------------------------------------------

def safety_half(name, key):
    """Signal's NumericFingerprintGenerator, one side: SHA-512 runs SAFETY_ITERATIONS times in
    all, first over version || key || name || key, then over the previous hash || key."""
    data = struct.pack(">H", SAFETY_VERSION) + key + name.encode("utf-8") + key
    digest = hashlib.sha512(data).digest()
    for _ in range(1, SAFETY_ITERATIONS):
        digest = hashlib.sha512(digest + key).digest()
    return data, "".join("%05d" % (int.from_bytes(digest[i:i + 5], "big") % 100000) for i in range(0, 30, 5))


def verify_safety_numbers(v, checks):
    checks.start("Signal's published fingerprint vector")
    # libsignal rust/protocol/src/fingerprint.rs, fingerprint_test_v1 (33-byte Signal keys).
    alice = safety_half("+14152222222", bytes.fromhex("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868"))
    bob = safety_half("+14153333333", bytes.fromhex("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b"))
    checks.ok(min(alice[1], bob[1]) + max(alice[1], bob[1]) == "300354477692869396892869876765458257569162576843440918079131",
              "this script's safety number algorithm reproduces Signal's test vector")

    checks.start("safety numbers (§7)")
    checks.value(v, ("iterations",), SAFETY_ITERATIONS)
    checks.value(v, ("version",), SAFETY_VERSION)
    numbers = set()
    for index in range(len(v.raw(("cases",)))):
        path = ("cases", index)
        v.get(*path, "description")
        halves = {}
        for side in ("local", "remote"):
            name = v.get(*path, side, "name")
            seed = v.bytes(*path, side, "signing_seed")
            key = ed25519_public(seed)
            data, digits = safety_half(name, key)
            checks.tree(v, path + (side,), {"name": name, "name_utf8": hx(name.encode("utf-8")), "signing_seed": hx(seed),
                                            "signing_public": hx(key), "hash_input": hx(data), "digits": digits})
            halves[side] = digits
        local, remote = halves["local"], halves["remote"]
        number = local + remote if local <= remote else remote + local
        checks.value(v, path + ("safety_number",), number)
        checks.value(v, path + ("formatted",), " ".join(number[i:i + 5] for i in range(0, 60, 5)))
        numbers.add((frozenset([(v.get(*path, "local", "signing_public"), v.get(*path, "local", "name")),
                                (v.get(*path, "remote", "signing_public"), v.get(*path, "remote", "name"))]), number))
    # The same two (key, name) pairs give the same number from either side.
    by_pair = {}
    for pair, number in numbers:
        by_pair.setdefault(pair, set()).add(number)
    checks.ok(all(len(found) == 1 for found in by_pair.values()), "both sides compute the same number")


# --- driver -------------------------------------------------------------------------------------

FILES = [("conversation-v1.json", verify_conversation), ("safety-number-v1.json", verify_safety_numbers)]


def verify_document(data, verify, checks):
    vectors = Vectors(data)
    verify(vectors, checks)
    checks.start("every value checked or used")
    unchecked = [p for p in vectors.leaves() if p not in vectors.seen and p[-1] not in FREE_TEXT_KEYS]
    checks.ok(not unchecked, "values nothing checked: %s" % ["/".join(map(str, p)) for p in unchecked[:5]])
    checks.finish()


def verify_all(directory, out):
    checks = Checks(out)
    for file_name, verify in FILES:
        print("%s:" % file_name, file=out)
        with open(os.path.join(directory, file_name), encoding="utf-8") as f:
            verify_document(json.load(f), verify, checks)
    return checks.total


def mutations(node, path=()):
    """Every value (except free text) with one byte altered."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in FREE_TEXT_KEYS:
                yield from mutations(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from mutations(value, path + (index,))
    elif isinstance(node, bool):
        yield path, not node
    elif isinstance(node, int):
        yield path, node + 1
    elif node is None:
        yield path, "00"
    elif node == "":
        yield path, "0"
    else:
        middle = len(node) // 2
        replacement = {"0": "1"}.get(node[middle], "0") if all(c in "0123456789abcdef" for c in node) else chr(ord(node[middle]) ^ 1)
        yield path, node[:middle] + replacement + node[middle + 1:]


def self_test(directory):
    survived, tried = [], 0
    for file_name, verify in FILES:
        with open(os.path.join(directory, file_name), encoding="utf-8") as f:
            original = json.load(f)
        for path, value in mutations(original):
            data = copy.deepcopy(original)
            node = data
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
            tried += 1
            try:
                verify_document(data, verify, Checks(io.StringIO()))
                survived.append("%s: %s" % (file_name, "/".join(map(str, path))))
            except Exception:  # any failure (mismatch, bad hex, missing draw, ...) is the point
                pass
    print("self-test: %d single-value alterations, %d undetected" % (tried, len(survived)))
    for line in survived[:20]:
        print("  undetected: " + line)
    return not survived


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[0] + "\nusage: verify_vectors.py DIRECTORY [--self-test]", file=sys.stderr)
        return 2
    directory = args[0]
    print("cryptography %s; ML-KEM-768 %s" % (cryptography.__version__,
          "re-derived" if mlkem is not None else "not available: KEM shared secret taken as given"))
    try:
        total = verify_all(directory, sys.stdout)
    except Exception as e:  # a mismatch, or vectors that do not even parse
        print("FAILED: %s: %s" % (type(e).__name__, e))
        return 1
    print("%d checks passed" % total)
    if "--self-test" in argv and not self_test(directory):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
