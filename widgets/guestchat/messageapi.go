package guestchat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
	"github.com/rathaus-de/rathaus/internal/plaintext"
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
	text := plaintext.Text(body.Body)
	switch {
	case !txnIDRegex.MatchString(body.TxnID):
		httpapi.WriteError(w, errBadTxnID)
		return
	case !plaintext.Visible(text):
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
	// The file is named after its checked type, never after what the
	// citizen called it: a name like "Antrag.cmd" or one with a
	// right-to-left override would reach staff as an image under a lie
	// (issue 12, point 4).
	name, err := s.attachmentName(r.Context(), c, declared)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	err = s.cases.SendCitizenFile(r.Context(), c, txn, cases.File{Name: name, Type: declared, Data: data})
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

// typeExtensions are the file name extensions of the types rathaus checks
// by their first bytes.
var typeExtensions = map[string]string{
	"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "application/pdf": ".pdf",
}

// extensionOf is the extension a file of mediaType is named with.
func extensionOf(mediaType string) string {
	if ext, ok := typeExtensions[mediaType]; ok {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(mediaType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// attachmentName names the citizen's next file in a case: "Anhang-2.png",
// numbered after the files the citizen sent before.
func (s *Server) attachmentName(ctx context.Context, c *cases.Case, mediaType string) (string, error) {
	n := 1
	for after := int64(0); ; {
		events, err := s.cases.Timeline(ctx, c.ID, after, streamBatch)
		if err != nil {
			return "", err
		}
		for _, e := range events {
			after = e.Seq
			if e.Origin == cases.OriginCitizen && (e.Kind == cases.EntryImage || e.Kind == cases.EntryFile) {
				n++
			}
		}
		if len(events) < streamBatch {
			return fmt.Sprintf("Anhang-%d%s", n, extensionOf(mediaType)), nil
		}
	}
}

// cleanFileName keeps a file name displayable and harmless: no path, one
// line without control, invisible or bidi characters, no quotes, at most
// 100 characters; and, for a type the browser shows (images, PDF), the
// extension of that type, so a download is saved as what it is.
func cleanFileName(name, mediaType string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ReplaceAll(plaintext.Line(name, 100), `"`, "")
	if name == "" || name == "." || name == ".." {
		name = "Datei"
	}
	if ext, ok := typeExtensions[mediaType]; ok {
		have := strings.ToLower(path.Ext(name))
		if have != ext && (ext != ".jpg" || have != ".jpeg") {
			name += ext
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
