package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// File is a file uploaded to the fake workspace: by a person through a modal's file_input
// (AddFile), or by the bot through the external upload flow.
type File struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Filetype string `json:"filetype"`
	Mimetype string `json:"mimetype"`
	User     string `json:"user"`
	Content  []byte `json:"-"`
	Thumb    []byte `json:"-"` // Slack's image of a PDF's first page (thumb_pdf), if any
	// Shared lists the channels the file was shared to; a person's upload through file_input is
	// shared nowhere, as in Slack.
	Shared []string `json:"channels"`
}

// FileRef is a file as a message carries it.
type FileRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url_private"`
}

var fileTypes = map[string]string{
	"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
	"heic": "image/heic", "webp": "image/webp", "gif": "image/gif", "txt": "text/plain", "zip": "application/zip",
}

// AddFile uploads content as user, named name, as a modal's file_input does: the file is private to
// user until shared. Its type comes from the name's extension; its mimetype from the content, as
// Slack sniffs it. It returns the file id.
func (s *Server) AddFile(user, name string, content []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	typ := strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
	mt := http.DetectContentType(content)
	if m, _, err := mime.ParseMediaType(mt); err == nil {
		mt = m
	}
	if mt == "application/octet-stream" || mt == "text/plain" {
		mt = fileTypes[typ] // HEIC and friends are not sniffed by the standard library
	}
	f := &File{ID: s.newID("F"), Name: name, Filetype: typ, Mimetype: mt, User: user, Content: content}
	s.files[f.ID] = f
	return f.ID
}

// SetThumb gives file id an image of its first page, served as thumb_pdf.
func (s *Server) SetThumb(id string, img []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files[id]; f != nil {
		f.Thumb = img
	}
}

// Files returns the files uploaded so far, by anyone.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, f := range s.files {
		out = append(out, *f)
	}
	return out
}

// Downloads counts the downloads of file id's content so far (its url_private_download, with
// the bot's token), so that a test can tell a file was fetched once and not again.
func (s *Server) Downloads(id string) int {
	n := 0
	for _, c := range s.Calls("files.download") {
		if c.Params["file"] == id && c.Params["part"] == "download" {
			n++
		}
	}
	return n
}

// FileContent is what the fake serves for a file id it was never given: a tiny PDF, as files
// named in tests without being uploaded used to be.
func FileContent(id string) []byte { return []byte("%PDF-1.4 fake receipt " + id + "\n") }

// fileInfo answers files.info; s.mu is held.
func (s *Server) fileInfo(id string) (map[string]any, *apiError) {
	f := s.files[id]
	if f == nil {
		if id == "" {
			return nil, errf("file_not_found")
		}
		f = &File{ID: id, Name: "receipt-" + id + ".pdf", Filetype: "pdf", Mimetype: "application/pdf", Content: FileContent(id)}
	}
	out := map[string]any{"id": f.ID, "name": f.Name, "title": f.Name, "filetype": f.Filetype, "mimetype": f.Mimetype,
		"user": f.User, "size": len(f.Content), "permalink": s.URL + "files/" + f.ID,
		"url_private": s.URL + "files/" + f.ID, "url_private_download": s.URL + "files/" + f.ID + "/download",
		"channels": f.Shared}
	if f.Thumb != nil {
		out["thumb_pdf"] = s.URL + "files/" + f.ID + "/thumb_pdf.png"
	}
	if strings.HasPrefix(f.Mimetype, "image/") {
		out["thumb_1024"] = s.URL + "files/" + f.ID + "/download"
	}
	return map[string]any{"file": out}, nil
}

// serveFile serves /files/ID (the permalink: the page shows it), /files/ID/download and
// /files/ID/thumb_pdf.png (the bot's token only, as files.slack.com).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/files/"), "/")
	s.mu.Lock()
	f := s.files[id]
	var content []byte
	mt := "application/pdf"
	if f != nil {
		content, mt = f.Content, f.Mimetype
	} else if id != "" {
		content = FileContent(id)
	}
	if rest == "thumb_pdf.png" {
		content, mt = nil, "image/png"
		if f != nil {
			content = f.Thumb
		}
	}
	s.mu.Unlock()
	if content == nil {
		http.NotFound(w, r)
		return
	}
	if rest != "" && r.Header.Get("Authorization") != "Bearer "+BotToken {
		http.Error(w, "not authed", http.StatusForbidden)
		return
	}
	s.record("files.download", map[string]any{"file": id, "part": rest}, "")
	w.Header().Set("Content-Type", mt)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(content)
}

// getUploadURL answers files.getUploadURLExternal; s.mu is held.
func (s *Server) getUploadURL(p map[string]any) (map[string]any, *apiError) {
	name, length := str(p, "filename"), str(p, "length")
	if n, err := strconv.Atoi(length); name == "" || err != nil || n <= 0 {
		return nil, errf("invalid_arguments")
	}
	typ := strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
	f := &File{ID: s.newID("F"), Name: name, Filetype: typ, Mimetype: fileTypes[typ], User: BotUser}
	s.files[f.ID] = f
	return map[string]any{"upload_url": s.URL + "upload/" + f.ID, "file_id": f.ID}, nil
}

// serveUpload takes the bytes of an external upload (multipart field "file").
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	content, err := io.ReadAll(io.LimitReader(file, 20<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[id]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	f.Content = content
	w.Write([]byte("OK - " + strconv.Itoa(len(content))))
}

// completeUpload answers files.completeUploadExternal: each file is shared to channel_id (in
// thread_ts) in a message of its own; without a channel it stays private. s.mu is held.
func (s *Server) completeUpload(p map[string]any) (map[string]any, *apiError) {
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(str(p, "files")), &files); err != nil || len(files) == 0 {
		return nil, errf("invalid_arguments")
	}
	var refs []FileRef
	var out []any
	for _, fs := range files {
		f := s.files[fs.ID]
		if f == nil || f.Content == nil {
			return nil, errf("file_not_found")
		}
		refs = append(refs, FileRef{ID: f.ID, Name: f.Name, URL: s.URL + "files/" + f.ID})
		out = append(out, map[string]any{"id": f.ID, "title": fs.Title})
	}
	if ch := str(p, "channel_id"); ch != "" {
		id := s.resolveChannel(ch)
		c := s.channels[id]
		switch {
		case c == nil:
			return nil, errf("channel_not_found")
		case !c.Members[BotUser]:
			return nil, errf("not_in_channel")
		}
		thread := str(p, "thread_ts")
		if thread != "" && s.findMessage(id, thread) == nil {
			return nil, errf("thread_not_found")
		}
		for _, ref := range refs {
			m := &Message{Channel: id, TS: s.newTS(), ThreadTS: thread, User: BotUser, Text: "📎 " + ref.Name, Files: []FileRef{ref}}
			c.Messages = append(c.Messages, m)
			s.files[ref.ID].Shared = append(s.files[ref.ID].Shared, id)
		}
		s.changed()
	}
	return map[string]any{"files": out}, nil
}

// DMEvent is a message.im event as delivered: send it again with [Server.Redeliver].
type DMEvent struct {
	ID      string // the event id
	TS      string // the message's ts in the DM
	payload map[string]any
}

// PostFiles posts files (uploaded with AddFile) in user's DM with the bot, as a person does by
// dropping them into the conversation: a message with the files, shared in the DM, and its
// message.im event (subtype file_share). It returns the event once it was acked.
func (s *Server) PostFiles(user, text string, files ...string) (DMEvent, Ack, error) {
	s.mu.Lock()
	ch := s.resolveChannel(user)
	if ch == "" {
		s.mu.Unlock()
		return DMEvent{}, Ack{}, fmt.Errorf("fakeslack: no user %s", user)
	}
	m := &Message{Channel: ch, TS: s.newTS(), User: user, Text: text}
	var refs []map[string]any
	for _, id := range files {
		f := s.files[id]
		if f == nil {
			s.mu.Unlock()
			return DMEvent{}, Ack{}, fmt.Errorf("fakeslack: no file %s", id)
		}
		f.Shared = append(f.Shared, ch)
		m.Files = append(m.Files, FileRef{ID: f.ID, Name: f.Name, URL: s.URL + "files/" + f.ID})
		refs = append(refs, map[string]any{"id": f.ID, "name": f.Name, "title": f.Name, "filetype": f.Filetype,
			"mimetype": f.Mimetype, "size": len(f.Content), "user": user, "url_private": s.URL + "files/" + f.ID})
	}
	s.channels[ch].Messages = append(s.channels[ch].Messages, m)
	event := map[string]any{"type": "message", "subtype": "file_share", "user": user, "text": text, "ts": m.TS,
		"channel": ch, "channel_type": "im", "event_ts": m.TS, "files": refs, "upload": true}
	ev := DMEvent{ID: s.newID("Ev"), TS: m.TS}
	ev.payload = map[string]any{"token": "verification-token", "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": ev.ID, "event_time": time.Now().Unix()}
	s.changed()
	s.mu.Unlock()
	ack, err := s.Send("events_api", ev.payload, 0)
	return ev, ack, err
}

// Redeliver sends ev again, as Slack does when it saw no ack: same event id, retry_attempt 1.
func (s *Server) Redeliver(ev DMEvent) (Ack, error) {
	return s.Send("events_api", ev.payload, 1)
}

// BotMessageInDM delivers a message.im event of a bot's message with a file: the app must ignore it.
func (s *Server) BotMessageInDM(user, file string) (Ack, error) {
	s.mu.Lock()
	ch := s.resolveChannel(user)
	event := map[string]any{"type": "message", "subtype": "file_share", "user": BotUser, "bot_id": "B0EXPENSE", "text": "",
		"ts": s.newTS(), "channel": ch, "channel_type": "im", "files": []map[string]any{{"id": file, "name": "x.png"}}}
	payload := map[string]any{"token": "verification-token", "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": s.newID("Ev"), "event_time": time.Now().Unix()}
	s.mu.Unlock()
	return s.Send("events_api", payload, 0)
}
