package ingress

import (
	"net/http"
	"strconv"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

// embeddings serves OpenAI's POST /v1/embeddings.
func (h *Handler) embeddings(w http.ResponseWriter, r *http.Request) {
	f := openaiFormat{}
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	hd, err := readHead(body) // the model as the provider reads it
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	req, encoding, err := openai.DecodeEmbeddingRequest(body)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	req.Model = hd.model
	rt, ok := h.router.Route(req.Model)
	if !ok {
		h.fail(w, r, f, unknownModel(req.Model))
		return
	}
	u := Usage{Model: req.Model, Upstream: rt.UpstreamModel(), Provider: rt.Provider.Name()}
	if pt, ok := rt.Provider.(llm.Passthrough); ok && pt.Format() == llm.FormatOpenAI {
		u.Passthrough = true
		hd.stream = false
		h.passthrough(w, r, f, pt, llm.OpEmbed, body, hd, &u)
		return
	}
	emb, ok := rt.Provider.(llm.Embedder)
	if !ok {
		h.fail(w, r, f, &llm.Error{Kind: llm.ErrInvalidRequest, Param: "model",
			Message: "the model " + strconv.Quote(req.Model) + " does not make embeddings"})
		return
	}
	req.Model = u.Upstream
	res, err := emb.Embed(r.Context(), req)
	if err != nil {
		h.fail(w, r, f, h.providerError(rt.Provider, err))
		return
	}
	res.Model = u.Model
	out, err := openai.EncodeEmbeddingResponse(res, encoding)
	if err != nil {
		h.fail(w, r, f, &llm.Error{Kind: llm.ErrServer, Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	u.Usage = res.Usage
	h.used(r, u)
}
