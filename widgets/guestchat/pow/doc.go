// Package pow owns the proof-of-work challenge that guards anonymous entry
// to the citizens' guest chat. It replaces a third-party CAPTCHA: rathaus
// issues a signed challenge, the browser spends some CPU time on it, and
// rathaus verifies the work and accepts each challenge only once.
//
// The package is pure logic plus one small storage interface ([SpentStore]);
// the HTTP layer that hands out challenges and reads solutions lives
// elsewhere.
//
// # Token
//
// [Issuer.Issue] returns a [Challenge] whose Token is opaque to the client:
//
//	payload = "v1|" + id + "|" + purpose + "|" + difficulty + "|" + expiresUnix
//	token   = base64url(payload) + "." + base64url(HMAC-SHA256(key, base64url(payload)))
//
// base64url is RFC 4648 §5 without padding. The HMAC binds every field, so
// a client cannot lower the difficulty, extend the expiry or reuse a
// challenge for another purpose. Tokens are ASCII and at most a few hundred
// bytes long.
//
// # Work (the algorithm the browser implements)
//
// Given the challenge's token T (a string, used exactly as received) and its
// difficulty D (an integer, 8 ≤ D ≤ 30):
//
//  1. For nonce = 0, 1, 2, … form the string M = T + ":" + N, where N is
//     nonce written in base 10 with ASCII digits, no sign, no leading zeros,
//     no exponent (at most 20 digits; in JavaScript String(nonce) is correct
//     for every nonce below Number.MAX_SAFE_INTEGER).
//  2. Compute H = SHA-256 of the UTF-8 (here: ASCII) bytes of M, 32 bytes.
//  3. Count the leading zero bits of H: bytes in order H[0], H[1], …, and
//     within each byte from the most significant bit down. Stop at the first
//     1 bit.
//  4. If that count is at least D, the answer is N; otherwise try the next
//     nonce.
//
// The client sends T and N back unchanged. On average the client computes
// 2^D hashes (about 262,000 at the default D = 18; see DefaultDifficulty
// for measured times). In a browser,
// crypto.subtle.digest("SHA-256", bytes) works only in a secure context
// (HTTPS or localhost) and is asynchronous; hashing in batches (for example
// 1,000 digests per Promise.all) inside a Web Worker keeps the page
// responsive.
//
// Test vector (a real token looks different; the algorithm does not care):
// for T = "rathaus-pow-test-vector" and D = 8 the answer is N = "84",
// SHA-256("rathaus-pow-test-vector:84") = 00829dc9…; for D = 16 it is
// N = "7431", SHA-256("rathaus-pow-test-vector:7431") = 00007a16… (17 zero
// bits). TestWorkTestVector keeps these figures honest.
//
// # Verification
//
// [Issuer.Verify] checks, cheapest first: token shape and HMAC (constant
// time), purpose, expiry, difficulty, the work (one SHA-256), and last it
// records the challenge id in the [SpentStore], so a solution is accepted
// exactly once. Each failure is a sentinel error from errors.go.
package pow
