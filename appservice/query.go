package appservice

import (
	"encoding/json"
	"io"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// getUser implements GET /_matrix/app/v1/users/{userId}.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	if !checkHSToken(w, r, s.opts.HSToken) {
		return
	}
	userID := id.UserID(r.PathValue("userID"))
	if !s.opts.IsOurUser(userID) {
		mautrix.MNotFound.WithMessage("User is not in this appservice's namespace").Write(w)
		return
	}
	exists, err := s.opts.Queries.QueryUser(r.Context(), userID)
	if err != nil {
		s.log.Error().Err(err).Stringer("user_id", userID).Msg("Failed to answer user query")
		mautrix.MUnknown.WithMessage("Failed to look up user").Write(w)
		return
	} else if !exists {
		mautrix.MNotFound.WithMessage("No such user").Write(w)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// getRoom implements GET /_matrix/app/v1/rooms/{roomAlias}.
func (s *Server) getRoom(w http.ResponseWriter, r *http.Request) {
	if !checkHSToken(w, r, s.opts.HSToken) {
		return
	}
	alias := id.RoomAlias(r.PathValue("alias"))
	if !s.opts.IsOurAlias(alias) {
		mautrix.MNotFound.WithMessage("Alias is not in this appservice's namespace").Write(w)
		return
	}
	exists, err := s.opts.Queries.QueryAlias(r.Context(), alias)
	if err != nil {
		s.log.Error().Err(err).Stringer("alias", alias).Msg("Failed to answer alias query")
		mautrix.MUnknown.WithMessage("Failed to look up alias").Write(w)
		return
	} else if !exists {
		mautrix.MNotFound.WithMessage("No such room alias").Write(w)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// postPing implements POST /_matrix/app/v1/ping (spec v1.7): the homeserver
// checks that it can reach us after an appservice asked it to.
func (s *Server) postPing(w http.ResponseWriter, r *http.Request) {
	if !checkHSToken(w, r, s.opts.HSToken) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64*1024))
	if err != nil || len(body) == 0 || !json.Valid(body) {
		mautrix.MNotJSON.WithMessage("Request body is not JSON").Write(w)
		return
	}
	var req mautrix.ReqAppservicePing
	if err = json.Unmarshal(body, &req); err != nil {
		mautrix.MBadJSON.WithMessage("Request body is not a ping object").Write(w)
		return
	}
	s.log.Debug().Str("txn_id", req.TxnID).Msg("Received ping from homeserver")
	writeJSON(w, http.StatusOK, struct{}{})
}
