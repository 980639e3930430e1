// Package sandbox is the web page of `expensebot sandbox`: a small Slack-like workspace in the
// browser over the project's fake Slack. People pick who they are, type /expense, click the
// buttons the bot sent and fill its modals; every action becomes the payload Slack would send,
// delivered to the real bot over Socket Mode. Messages and views are drawn from the Block Kit the
// bot actually sent, and updates arrive live over server-sent events. Assets are embedded.
package sandbox

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/expensebot/expensebot/internal/fakeslack"
)

//go:embed web
var web embed.FS

// Person is someone to be in the sandbox.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"` // "employee" or "reviewer"
}

// UI serves the page and its small JSON API.
type UI struct {
	// Ops is the base URL of the bot's /healthz and /metrics, linked from the page ("" for none).
	Ops string

	slack  *fakeslack.Server
	people []Person
	mux    *http.ServeMux
}

// NewUI returns the web UI over a fake workspace.
func NewUI(sl *fakeslack.Server, people []Person) *UI {
	u := &UI{slack: sl, people: people, mux: http.NewServeMux()}
	static, _ := fs.Sub(web, "web")
	u.mux.Handle("GET /", http.FileServer(http.FS(static)))
	u.mux.HandleFunc("GET /api/state", u.state)
	u.mux.HandleFunc("GET /api/events", u.events)
	u.mux.HandleFunc("POST /api/command", u.command)
	u.mux.HandleFunc("POST /api/click", u.click)
	u.mux.HandleFunc("POST /api/submit", u.submit)
	u.mux.HandleFunc("POST /api/close", u.closeModal)
	u.mux.HandleFunc("POST /api/home", u.home)
	u.mux.HandleFunc("POST /api/upload", u.upload)
	u.mux.HandleFunc("POST /api/sample", u.sample)
	u.mux.HandleFunc("POST /api/dm-files", u.dmFiles)
	u.mux.HandleFunc("GET /api/samples", u.listSamples)
	u.mux.HandleFunc("GET /samples/{name}", u.sampleImage)
	return u
}

func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	u.mux.ServeHTTP(w, r)
}

func (u *UI) known(user string) bool {
	for _, p := range u.people {
		if p.ID == user {
			return true
		}
	}
	return false
}

type channelState struct {
	ID       string              `json:"id"`
	Name     string              `json:"name"`
	DM       bool                `json:"dm"`
	Messages []fakeslack.Message `json:"messages"`
}

func (u *UI) state(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if !u.known(user) {
		http.Error(w, "unknown user", http.StatusBadRequest)
		return
	}
	out := struct {
		People   []Person          `json:"people"`
		Channels []channelState    `json:"channels"`
		Home     *fakeslack.View   `json:"home"`
		Modal    *fakeslack.View   `json:"modal"`
		Names    map[string]string `json:"names"`
		Ops      string            `json:"ops,omitempty"`
	}{People: u.people, Names: map[string]string{}, Ops: u.Ops}
	for _, usr := range u.slack.Users() {
		out.Names[usr.ID] = usr.RealName
	}
	out.Names[fakeslack.BotUser] = "expensebot"
	for _, c := range u.slack.Channels() {
		if c.ID[0] == 'D' {
			continue
		}
		out.Channels = append(out.Channels, channelState{ID: c.ID, Name: c.Name, Messages: nonNil(u.slack.Messages(c.ID, user))})
	}
	out.Channels = append(out.Channels, channelState{ID: "D" + user, Name: "expensebot", DM: true, Messages: nonNil(u.slack.Messages(user, user))})
	if v, ok := u.slack.Home(user); ok {
		out.Home = &v
	}
	if v, ok := u.slack.Modal(user); ok {
		out.Modal = &v
	}
	writeJSON(w, http.StatusOK, out)
}

func nonNil(m []fakeslack.Message) []fakeslack.Message {
	if m == nil {
		return []fakeslack.Message{}
	}
	return m
}

// events tells the page to refetch whenever the workspace changes.
func (u *UI) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	changes, stop := u.slack.Subscribe()
	defer stop()
	fmt.Fprint(w, "event: changed\ndata: {}\n\n")
	fl.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-changes:
			fmt.Fprint(w, "event: changed\ndata: {}\n\n")
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		}
		fl.Flush()
	}
}

type request struct {
	User     string            `json:"user"`
	Channel  string            `json:"channel"`
	Text     string            `json:"text"`
	TS       string            `json:"ts"`
	ViewID   string            `json:"view_id"`
	ActionID string            `json:"action_id"`
	Values   map[string]string `json:"values"`
	Files    []string          `json:"files"`
}

func (u *UI) read(w http.ResponseWriter, r *http.Request) (request, bool) {
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request"})
		return req, false
	}
	if !u.known(req.User) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown user"})
		return req, false
	}
	return req, true
}

func (u *UI) command(w http.ResponseWriter, r *http.Request) {
	req, ok := u.read(w, r)
	if !ok {
		return
	}
	text := strings.TrimSpace(req.Text)
	name, rest, _ := strings.Cut(text, " ")
	if name != "/expense" {
		writeJSON(w, http.StatusOK, map[string]string{"hint": "This sandbox knows one command: /expense (try /expense help)."})
		return
	}
	channel := req.Channel
	if strings.HasPrefix(channel, "D") {
		channel = req.User // the DM with the bot
	}
	_, err := u.slack.Command(req.User, channel, "/expense", strings.TrimSpace(rest))
	reply(w, err)
}

func (u *UI) click(w http.ResponseWriter, r *http.Request) {
	req, ok := u.read(w, r)
	if !ok {
		return
	}
	var err error
	if req.ViewID != "" {
		_, err = u.slack.ClickViewButton(req.User, req.ViewID, req.ActionID)
	} else {
		channel := req.Channel
		if strings.HasPrefix(channel, "D") {
			channel = req.User
		}
		_, err = u.slack.ClickMessageButton(req.User, channel, req.TS, req.ActionID)
	}
	reply(w, err)
}

func (u *UI) submit(w http.ResponseWriter, r *http.Request) {
	req, ok := u.read(w, r)
	if !ok {
		return
	}
	errs, _, err := u.slack.SubmitModal(req.User, req.Values)
	if err != nil {
		reply(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"errors": errs})
}

func (u *UI) closeModal(w http.ResponseWriter, r *http.Request) {
	req, ok := u.read(w, r)
	if !ok {
		return
	}
	u.slack.CloseModals(req.User)
	reply(w, nil)
}

func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	req, ok := u.read(w, r)
	if !ok {
		return
	}
	_, err := u.slack.OpenHome(req.User)
	reply(w, err)
}

// maxUpload is the most the page uploads: above Slack's 10 MB, so that the bot's own size check
// can be tried.
const maxUpload = 12 << 20

// upload stores the request body in the fake Slack as user's file, named name, as a modal's
// file_input does when a file is picked, and returns its id for the view_submission's state.
func (u *UI) upload(w http.ResponseWriter, r *http.Request) {
	user, name := r.URL.Query().Get("user"), strings.TrimSpace(r.URL.Query().Get("name"))
	if !u.known(user) || name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown user or no file name"})
		return
	}
	content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpload))
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]string{"error": fmt.Sprintf("The sandbox takes files up to %d MB.", maxUpload>>20)})
		return
	}
	if len(content) == 0 {
		writeJSON(w, http.StatusOK, map[string]string{"error": name + " is empty."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": u.slack.AddFile(user, path.Base(name), content), "name": path.Base(name)})
}

// sample uploads one of the shipped receipts as req.User's file (req.Text names it).
func (u *UI) sample(w http.ResponseWriter, r *http.Request) {
	req, ok := u.read(w, r)
	if !ok {
		return
	}
	for _, s := range Samples() {
		if s.Name == req.Text {
			writeJSON(w, http.StatusOK, map[string]string{"id": u.slack.AddFile(req.User, s.Name, s.content), "name": s.Name})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"error": "no such sample"})
}

// dmFiles posts files (uploaded before, through /api/upload or /api/sample) in req.User's DM with
// the bot, as dropping them into the conversation does in Slack: a message.im event.
func (u *UI) dmFiles(w http.ResponseWriter, r *http.Request) {
	req, ok := u.read(w, r)
	if !ok {
		return
	}
	if len(req.Files) == 0 {
		writeJSON(w, http.StatusOK, map[string]string{"error": "no file"})
		return
	}
	_, _, err := u.slack.PostFiles(req.User, "", req.Files...)
	reply(w, err)
}

func (u *UI) listSamples(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Samples())
}

func (u *UI) sampleImage(w http.ResponseWriter, r *http.Request) {
	for _, s := range Samples() {
		if s.Name == r.PathValue("name") {
			w.Header().Set("Content-Type", "image/png")
			w.Write(s.content)
			return
		}
	}
	http.NotFound(w, r)
}

func reply(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, fakeslack.ErrNoAck):
		writeJSON(w, http.StatusOK, map[string]string{"error": "The app did not answer within 3 seconds (Slack would show an error here)."})
	case err != nil:
		writeJSON(w, http.StatusOK, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, map[string]string{})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
