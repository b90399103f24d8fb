package appservice

import (
	"encoding/json"
	"net/http"
)

// writeJSON writes a JSON response. Matrix-style errors use
// mautrix.RespError.Write, which produces {"errcode", "error"} bodies.
func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
