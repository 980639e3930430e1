package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The deployment files are read by the tools that use them, as far as this machine has them: the
// compose file as YAML, the unit by systemd-analyze (or parsed), the Dockerfile as text. Each
// variable they set must be one the program reads.

// TestComposeFile: PostgreSQL with a volume and a health check; a migrate step that finishes
// before the bot starts; the bot on PostgreSQL, refusing to migrate by itself, with health and
// metrics on a port bound to this host only.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type service struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	}
	var c struct {
		Services map[string]service `yaml:"services"`
		Volumes  map[string]any     `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(false)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	pg, bot, mig := c.Services["postgres"], c.Services["expensebot"], c.Services["migrate"]
	if !strings.HasPrefix(pg.Image, "postgres:") || pg.Healthcheck == nil || len(pg.Volumes) == 0 {
		t.Errorf("postgres service: %+v", pg)
	}
	if _, ok := c.Volumes["pgdata"]; !ok {
		t.Errorf("no named volume for PostgreSQL's data")
	}
	if strings.Join(mig.Command, " ") != "migrate" || mig.Build == nil || mig.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("migrate service: %+v", mig)
	}
	if strings.Join(bot.Command, " ") != "run" || bot.DependsOn["migrate"].Condition != "service_completed_successfully" ||
		bot.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("expensebot service: %+v", bot)
	}
	if !strings.HasPrefix(bot.Environment["DATABASE_URL"], "postgres://") || bot.Environment["EXPENSEBOT_MIGRATE"] != "false" {
		t.Errorf("expensebot environment: %v", bot.Environment)
	}
	if len(bot.Ports) != 1 || !strings.HasPrefix(bot.Ports[0], "127.0.0.1:") || !strings.HasSuffix(bot.Ports[0], ":9090") ||
		!strings.HasSuffix(bot.Environment["EXPENSEBOT_METRICS_ADDR"], ":9090") {
		t.Errorf("metrics port %v is not the metrics listener's, bound to this host", bot.Ports)
	}
	for name, s := range c.Services {
		checkVariables(t, "compose.yaml "+name, s.Environment)
	}
}

// TestSystemdUnit: the unit runs `expensebot run` as a dynamic user with a state directory (where
// the SQLite file goes) and the settings from an environment file; systemd-analyze verifies it
// where it is installed.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/expensebot.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("expensebot.service:%d: not key=value in a section: %q", n, line)
			}
			keys[section+"."+k] = append(keys[section+"."+k], v)
		}
	}
	for k, want := range map[string]string{
		"Service.ExecStart": "/usr/local/bin/expensebot run", "Service.DynamicUser": "yes", "Service.StateDirectory": "expensebot",
		"Service.EnvironmentFile": "/etc/expensebot/expensebot.env", "Service.NoNewPrivileges": "yes", "Service.ProtectSystem": "strict",
		"Service.Restart": "on-failure", "Install.WantedBy": "multi-user.target",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	env, err := os.ReadFile("../../deploy/expensebot.env.example")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#? ?([A-Z_]+)=`).FindAllStringSubmatch(string(env), -1) {
		vars[m[1]] = ""
	}
	checkVariables(t, "expensebot.env.example", vars)

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit was only parsed")
		return
	}
	// systemd-analyze checks that ExecStart's program exists: this test binary stands in.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "expensebot.service")
	os.WriteFile(unit, []byte(strings.ReplaceAll(string(raw), "/usr/local/bin/expensebot", self)), 0o644)
	out, err := exec.Command(analyze, "verify", "--man=no", unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(line, "expensebot.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

// TestDockerfile: a static binary, a non-root user, data under /var/lib/expensebot, and a health
// check that needs no curl.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "USER nonroot", "EXPENSEBOT_DATA_DIR=/var/lib/expensebot",
		"VOLUME /var/lib/expensebot", `CMD ["/usr/local/bin/expensebot", "healthcheck"]`, `ENTRYPOINT ["/usr/local/bin/expensebot"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(EXPENSEBOT_[A-Z_]+)=`).FindAllStringSubmatch(s, -1) {
		vars[m[1]] = ""
	}
	checkVariables(t, "Dockerfile", vars)
}

// checkVariables fails for a variable the program does not read.
func checkVariables(t *testing.T, where string, env map[string]string) {
	t.Helper()
	known := map[string]bool{"POSTGRES_USER": true, "POSTGRES_DB": true, "POSTGRES_PASSWORD": true}
	for v := range (&environment{}).variables() {
		known[v.key] = true
	}
	for k := range env {
		if !known[k] {
			t.Errorf("%s sets %s, which expensebot does not read", where, k)
		}
	}
}
