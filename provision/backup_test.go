package provision

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func init() { backupWorkFactor = 10 } // fast tests; the format is the same

func testBackup() Backup {
	return Backup{Hostname: "h1", Version: "1.0.0", Identity: []byte(`{"nodeId":"n-1","token":"tok-secret"}`),
		Credentials: map[string][]byte{"sql": []byte("P@ssw0rd!")}}
}

func TestBackupRoundTripAndErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteBackup(&buf, testBackup(), "correct horse"); err != nil {
		t.Fatal(err)
	}
	enc := buf.Bytes()
	for _, s := range []string{"tok-secret", "P@ssw0rd", "n-1"} {
		if bytes.Contains(enc, []byte(s)) {
			t.Fatalf("backup file contains %q in clear", s)
		}
	}
	b, err := ReadBackup(bytes.NewReader(enc), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Credentials["sql"]) != "P@ssw0rd!" || !strings.Contains(string(b.Identity), "n-1") {
		t.Errorf("restored %+v", b)
	}

	if _, err := ReadBackup(bytes.NewReader(enc), "wrong password"); !errors.Is(err, ErrBackupPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := ReadBackup(bytes.NewReader(enc[:len(enc)-10]), "correct horse"); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: %v", err)
	}
	tampered := bytes.Clone(enc)
	tampered[len(tampered)-5] ^= 1
	if _, err := ReadBackup(bytes.NewReader(tampered), "correct horse"); err == nil || !strings.Contains(err.Error(), "tampered") {
		t.Errorf("tampered: %v", err)
	}
	if _, err := ReadBackup(strings.NewReader("not age"), "correct horse"); err == nil {
		t.Error("garbage accepted")
	}
	if err := WriteBackup(&buf, testBackup(), "short"); err == nil || !strings.Contains(err.Error(), "at least 8") {
		t.Errorf("short password: %v", err)
	}
	if err := WriteBackup(&buf, Backup{}, "correct horse"); err == nil {
		t.Error("empty identity accepted")
	}
}

func FuzzReadBackup(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteBackup(&buf, testBackup(), "correct horse"); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("age-encryption.org/v1\n-> scrypt abc 10\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ReadBackup(bytes.NewReader(data), "correct horse")
		if err == nil && len(b.Identity) == 0 {
			t.Fatal("accepted a backup without identity")
		}
	})
}
