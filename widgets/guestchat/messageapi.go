package guestchat

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
)

// allowMessage applies the message limits; it answers the request and
// returns false when one is exceeded.
func (s *Server) allowMessage(w http.ResponseWriter, r *http.Request, gs *Session) bool {
	ok, retry, which := s.messages.Allow(map[string]string{
		"session": gs.TokenHash, "address": ratelimit.IPKey(s.proxies.ClientIP(r), 0), "global": "all"})
	if !ok {
		zerolog.Ctx(r.Context()).Info().Str("limit", which).Msg("Guest message rate limited")
		httpapi.WriteError(w, httpapi.RateLimited(retry))
	}
	return ok
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, gs *Session, c *cases.Case) {
	var body messageRequest
	if apiErr := httpapi.DecodeJSON(w, r, maxJSONBody, &body); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	text := strings.TrimRight(body.Body, " \t\r\n")
	switch {
	case !txnIDRegex.MatchString(body.TxnID):
		httpapi.WriteError(w, errBadTxnID)
		return
	case strings.TrimSpace(text) == "":
		httpapi.WriteError(w, httpapi.BadRequest("body is empty"))
		return
	case utf8.RuneCountInString(text) > s.config().GuestChat.MaxMessageLength:
		httpapi.WriteError(w, httpapi.NewError(http.StatusRequestEntityTooLarge, codeTooLong,
			"the message is longer than "+strconv.Itoa(s.config().GuestChat.MaxMessageLength)+" characters"))
		return
	case !c.Status.Open():
		httpapi.WriteError(w, errCaseClosed)
		return
	}
	if !s.allowMessage(w, r, gs) {
		return
	}
	if err := s.cases.SendCitizenMessage(r.Context(), c, body.TxnID, text); err != nil {
		if errors.Is(err, cases.ErrCaseNotOpen) {
			httpapi.WriteError(w, errCaseClosed)
			return
		}
		s.unavailable(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, txnJSON{TxnID: body.TxnID})
}

func (s *Server) sendAttachment(w http.ResponseWriter, r *http.Request, gs *Session, c *cases.Case) {
	q := r.URL.Query()
	txn := q.Get("txn_id")
	if !txnIDRegex.MatchString(txn) {
		httpapi.WriteError(w, errBadTxnID)
		return
	}
	if s.config().GuestChat.MaxAttachmentBytes == 0 {
		httpapi.WriteError(w, errAttachmentsOff)
		return
	}
	if !c.Status.Open() {
		httpapi.WriteError(w, errCaseClosed)
		return
	}
	declared, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !s.allowedType(declared) {
		httpapi.WriteError(w, errTypeNotAllowed)
		return
	}
	if r.ContentLength > s.config().GuestChat.MaxAttachmentBytes {
		httpapi.WriteError(w, errFileTooLarge)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, s.config().GuestChat.MaxAttachmentBytes+1))
	if err != nil {
		httpapi.WriteError(w, httpapi.BadRequest("could not read the file"))
		return
	} else if int64(len(data)) > s.config().GuestChat.MaxAttachmentBytes {
		httpapi.WriteError(w, errFileTooLarge)
		return
	} else if len(data) == 0 {
		httpapi.WriteError(w, httpapi.BadRequest("the file is empty"))
		return
	}
	if sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(data)); sniffed != declared {
		httpapi.WriteError(w, httpapi.UnsupportedType("the file's content is not "+declared))
		return
	}
	if !s.allowMessage(w, r, gs) {
		return
	}
	err = s.cases.SendCitizenFile(r.Context(), c, txn, cases.File{Name: cleanFileName(q.Get("name"), declared), Type: declared, Data: data})
	if errors.Is(err, cases.ErrCaseNotOpen) {
		httpapi.WriteError(w, errCaseClosed)
		return
	} else if err != nil {
		s.unavailable(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, txnJSON{TxnID: txn})
}

func (s *Server) allowedType(t string) bool {
	for _, a := range s.config().GuestChat.AttachmentTypes {
		if a == t {
			return true
		}
	}
	return false
}

// cleanFileName keeps a file name displayable and harmless: no path, no
// control characters, at most 100 characters.
func cleanFileName(name, mediaType string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	if name == "" || name == "." || name == ".." {
		name = "datei"
		if exts, _ := mime.ExtensionsByType(mediaType); len(exts) > 0 {
			name += exts[0]
		}
	}
	return name
}

func (s *Server) media(w http.ResponseWriter, r *http.Request, _ *Session, c *cases.Case) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	e, err := s.cases.TimelineEntry(r.Context(), c.ID, seq)
	if err != nil {
		s.internal(w, r, err)
		return
	} else if e == nil || e.MediaURI == "" {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	body, err := s.cases.Media(r.Context(), e.MediaURI)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	defer body.Close()
	h := w.Header()
	typ, disposition := "application/octet-stream", "attachment"
	if strings.HasPrefix(e.MediaType, "image/") && s.allowedType(e.MediaType) || e.MediaType == "application/pdf" {
		typ = e.MediaType
		if strings.HasPrefix(typ, "image/") {
			disposition = "inline"
		}
	}
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": cleanFileName(e.MediaName, e.MediaType)}))
	h.Set("Content-Security-Policy", mediaCSP)
	h.Set("Cache-Control", "private, max-age=3600")
	if e.MediaSize > 0 {
		h.Set("Content-Length", strconv.FormatInt(e.MediaSize, 10))
	}
	if _, err = io.Copy(w, body); err != nil {
		zerolog.Ctx(r.Context()).Debug().Err(err).Msg("Media download interrupted")
	}
}
