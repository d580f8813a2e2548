package gemini

import (
	"encoding/json"
	"strings"
)

// The JSON shapes of the Gemini API, as far as the codec reads and writes
// them. Fields the model has no place for are read through raw maps
// elsewhere, so that they can be kept in Extra.

// wireContent is a Content: a role and its parts.
type wireContent struct {
	Role  string     `json:"role,omitempty"`
	Parts []wirePart `json:"parts"`
}

// wirePart is a Part. Text is a pointer because an empty text that only
// carries a thoughtSignature is still a text part.
type wirePart struct {
	Text             *string           `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"`
	InlineData       *wireBlob         `json:"inlineData,omitempty"`
	FileData         *wireFile         `json:"fileData,omitempty"`
	FunctionCall     *wireCall         `json:"functionCall,omitempty"`
	FunctionResponse *wireFuncResponse `json:"functionResponse,omitempty"`

	// Part fields the model has no place for: kept in Extra for gemini
	// (see partFieldsKey), a loss otherwise.
	VideoMetadata   json.RawMessage `json:"videoMetadata,omitempty"`
	MediaResolution json.RawMessage `json:"mediaResolution,omitempty"`

	// Kinds of parts the model has no place for; read only to report them.
	ExecutableCode      json.RawMessage `json:"executableCode,omitempty"`
	CodeExecutionResult json.RawMessage `json:"codeExecutionResult,omitempty"`
}

type wireBlob struct {
	MimeType string `json:"mimeType"`
	Data     []byte `json:"data"` // base64 in JSON
}

type wireFile struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type wireCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type wireFuncResponse struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`

	// Fields the model has no place for (multimodal results of Gemini 3,
	// non-blocking calls): kept in Extra for gemini, a loss otherwise.
	Parts        json.RawMessage `json:"parts,omitempty"`
	WillContinue json.RawMessage `json:"willContinue,omitempty"`
	Scheduling   json.RawMessage `json:"scheduling,omitempty"`
}

// wireFuncDecl is a FunctionDeclaration.
type wireFuncDecl struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	Parameters           json.RawMessage `json:"parameters,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type wireFuncCallingConfig struct {
	Mode                 string   `json:"mode,omitempty"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type wireThinkingConfig struct {
	ThinkingBudget  *int   `json:"thinkingBudget,omitempty"`
	IncludeThoughts bool   `json:"includeThoughts,omitempty"`
	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
}

// wireGenConfig is the part of GenerationConfig the model carries.
type wireGenConfig struct {
	StopSequences      []string            `json:"stopSequences,omitempty"`
	ResponseMimeType   string              `json:"responseMimeType,omitempty"`
	ResponseSchema     json.RawMessage     `json:"responseSchema,omitempty"`
	ResponseJSONSchema json.RawMessage     `json:"responseJsonSchema,omitempty"`
	CandidateCount     int                 `json:"candidateCount,omitempty"`
	MaxOutputTokens    int                 `json:"maxOutputTokens,omitempty"`
	Temperature        *float64            `json:"temperature,omitempty"`
	TopP               *float64            `json:"topP,omitempty"`
	TopK               *int                `json:"topK,omitempty"`
	Seed               *int64              `json:"seed,omitempty"`
	PresencePenalty    *float64            `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64            `json:"frequencyPenalty,omitempty"`
	ThinkingConfig     *wireThinkingConfig `json:"thinkingConfig,omitempty"`
}

// genConfigKeys are the generationConfig fields read into the model; the
// others are kept in Extra["generationConfig"].
var genConfigKeys = map[string]bool{
	"stopSequences": true, "responseMimeType": true, "responseSchema": true, "responseJsonSchema": true,
	"candidateCount": true, "maxOutputTokens": true, "temperature": true, "topP": true, "topK": true,
	"seed": true, "presencePenalty": true, "frequencyPenalty": true, "thinkingConfig": true,
}

// wireUsage is UsageMetadata.
type wireUsage struct {
	PromptTokenCount        int64 `json:"promptTokenCount"`
	CandidatesTokenCount    int64 `json:"candidatesTokenCount,omitempty"`
	CachedContentTokenCount int64 `json:"cachedContentTokenCount,omitempty"`
	ThoughtsTokenCount      int64 `json:"thoughtsTokenCount,omitempty"`
	ToolUsePromptTokenCount int64 `json:"toolUsePromptTokenCount,omitempty"`
	TotalTokenCount         int64 `json:"totalTokenCount"`
}

// wireCandidate is a Candidate; Extra holds its other fields
// (safetyRatings, citationMetadata, groundingMetadata...).
type wireCandidate struct {
	Content      *wireContent `json:"content,omitempty"`
	FinishReason string       `json:"finishReason,omitempty"`
	Index        int          `json:"index"`
}

// candidateKeys are the Candidate fields the model carries.
var candidateKeys = map[string]bool{"content": true, "finishReason": true, "index": true}

// wireError is the body of an error response, and of an error event in a
// stream.
type wireError struct {
	Error *wireErrorBody `json:"error"`
}

type wireErrorBody struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Status  string            `json:"status,omitempty"`
	Details []json.RawMessage `json:"details,omitempty"`
}

// known reports whether k names one of keys, in any case: encoding/json
// matches struct fields without regard to case, so such a key has been
// read into the model and must not also be kept in Extra.
func known(keys map[string]bool, k string) bool {
	if keys[k] {
		return true
	}
	for key := range keys {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}
