package openid

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"
)

// cacheKey is HMAC-SHA256(key, serverName NUL token). The token is never
// stored; the per-process random key means that even a memory dump cannot
// be matched against a token found elsewhere.
type cacheKey [sha256.Size]byte

type cacheEntry struct {
	user    id.UserID
	expires time.Time
}

// cache remembers successful verifications for ttl, at most size of them.
// When full it first drops expired entries, then arbitrary ones (map order):
// a miss only costs one more federation request.
type cache struct {
	hmacKey []byte
	ttl     time.Duration
	size    int
	now     func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

func newCache(hmacKey []byte, ttl time.Duration, size int, now func() time.Time) *cache {
	return &cache{hmacKey: hmacKey, ttl: ttl, size: size, now: now, entries: map[cacheKey]cacheEntry{}}
}

func (c *cache) key(serverName, token string) cacheKey {
	mac := hmac.New(sha256.New, c.hmacKey)
	mac.Write([]byte(serverName))
	mac.Write([]byte{0})
	mac.Write([]byte(token))
	var k cacheKey
	copy(k[:], mac.Sum(nil))
	return k
}

func (c *cache) get(k cacheKey) (id.UserID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return "", false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, k)
		return "", false
	}
	return e.user, true
}

func (c *cache) put(k cacheKey, user id.UserID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.size {
		for ek, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, ek)
			}
		}
		for ek := range c.entries {
			if len(c.entries) < c.size {
				break
			}
			delete(c.entries, ek)
		}
	}
	c.entries[k] = cacheEntry{user: user, expires: now.Add(c.ttl)}
}

// len is for tests.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
