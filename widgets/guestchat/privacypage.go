package guestchat

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// privacyPage serves guest_chat.privacy_page at config.PrivacyPagePath: a
// privacy notice the operator (or the demo) keeps next to the chat. It is
// read on every request, so an edit shows at once; 404 when none is
// configured.
func (s *Server) privacyPage(w http.ResponseWriter, r *http.Request) {
	path := s.config().GuestChat.PrivacyPage
	if path == "" {
		s.notFoundPage(w, r)
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		s.internal(w, r, fmt.Errorf("failed to read the privacy page: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(data)
}

// checkPrivacyPage fails New when the configured page cannot be read, so a
// typo is found at the start and not by a citizen.
func checkPrivacyPage(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("guestchat: failed to open guest_chat.privacy_page: %w", err)
	}
	return f.Close()
}

// webURL returns raw if it is an http(s) URL a link may point to, else "":
// a page never shows a link that goes nowhere.
func webURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (!strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http")) || u.Host == "" {
		return ""
	}
	return raw
}
