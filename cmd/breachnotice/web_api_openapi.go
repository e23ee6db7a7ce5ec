package main

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes the API (OpenAPI 3.1); TestOpenAPI_Routes holds it
// to the routes mountAPI registers.
//
//go:embed openapi/openapi.json
var openAPIDoc []byte

func (s *server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}
