// Package sqlitestore implements store.Store on SQLite with modernc.org/sqlite
// (pure Go, no cgo).
//
// The database is one file (0600) in WAL mode. Writes go through a single
// connection (SQLite has one writer anyway; queueing in Go is cheaper than
// busy retries) and each is one IMMEDIATE transaction; reads use a separate
// pool and never block on the writer. synchronous=NORMAL in WAL mode means a
// committed transaction survives a crash of the process (kill -9) at any
// point; Options.SyncFull also makes it survive a power loss, at the cost of
// an fsync per commit. Schema changes are numbered migrations recorded in
// schema_migrations and applied at Open in one transaction each.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

// Options tune Open.
type Options struct {
	// SyncFull fsyncs every commit (durable across power loss, slower).
	SyncFull bool
}

// Store is the SQLite store.
type Store struct {
	w *sql.DB // one connection: all writes
	r *sql.DB // readers
}

var _ store.Store = (*Store)(nil)

var migrations = []string{
	// 1: initial schema.
	`CREATE TABLE runtimes (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		description TEXT NOT NULL DEFAULT '',
		max_nodes INTEGER NOT NULL,
		key1 TEXT NOT NULL,
		key2 TEXT NOT NULL,
		desired_version TEXT NOT NULL DEFAULT '',
		version_constraint TEXT NOT NULL DEFAULT '',
		auto_update INTEGER,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE nodes (
		id TEXT PRIMARY KEY,
		runtime_id TEXT NOT NULL REFERENCES runtimes(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		machine_id TEXT NOT NULL,
		machine TEXT NOT NULL DEFAULT '{}',
		token_hash TEXT NOT NULL UNIQUE,
		version TEXT NOT NULL DEFAULT '',
		concurrency INTEGER NOT NULL DEFAULT 0,
		reported_concurrency INTEGER NOT NULL DEFAULT 0,
		registered_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL DEFAULT 0,
		metrics TEXT,
		update_status TEXT,
		remote_access TEXT NOT NULL DEFAULT '',
		UNIQUE (runtime_id, name),
		UNIQUE (runtime_id, machine_id)
	);
	CREATE TABLE jobs (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		runtime_id TEXT NOT NULL REFERENCES runtimes(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		spec TEXT NOT NULL,
		state TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		max_attempts INTEGER NOT NULL,
		lease_seconds INTEGER NOT NULL,
		node_id TEXT,
		lease_expires INTEGER NOT NULL DEFAULT 0,
		cancel_requested INTEGER NOT NULL DEFAULT 0,
		progress REAL NOT NULL DEFAULT 0,
		progress_message TEXT NOT NULL DEFAULT '',
		progress_bytes INTEGER NOT NULL DEFAULT 0,
		error TEXT NOT NULL DEFAULT '',
		output TEXT,
		created_at INTEGER NOT NULL,
		started_at INTEGER NOT NULL DEFAULT 0,
		finished_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX jobs_queue ON jobs (runtime_id, state, seq);
	CREATE INDEX jobs_node ON jobs (node_id, state);
	CREATE INDEX jobs_lease ON jobs (state, lease_expires);`,
}

// Open opens (creating if needed) the database file at path and migrates it.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	// Create the file 0600 before SQLite does (it would use the umask).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	f.Close()
	sync := "NORMAL"
	if opts.SyncFull {
		sync = "FULL"
	}
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(" + sync + ")"} {
			q.Add("_pragma", p)
		}
		return "file:" + filepathToURI(path) + "?" + q.Encode() + extra
	}
	w, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s := &Store{w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s.r = r
	return s, nil
}

func filepathToURI(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if len(p) > 1 && p[1] == ':' { // C:/x -> /C:/x
		p = "/" + p
	}
	return (&url.URL{Path: p}).EscapedPath()
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := s.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version),0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this shir (%d): upgrade shir", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
	}
	return nil
}

// SchemaVersion returns the applied schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version),0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func rawOrNil(s sql.NullString) json.RawMessage {
	if !s.Valid || s.String == "" {
		return nil
	}
	return json.RawMessage(s.String)
}

func nullRaw(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// ---- runtimes ----

const runtimeCols = `id, name, description, max_nodes, key1, key2, desired_version, version_constraint, auto_update, created_at`

func scanRuntime(row interface{ Scan(...any) error }) (store.Runtime, error) {
	var rt store.Runtime
	var au sql.NullInt64
	var created int64
	err := row.Scan(&rt.ID, &rt.Name, &rt.Description, &rt.MaxNodes, &rt.Key1, &rt.Key2, &rt.DesiredVersion, &rt.VersionConstraint, &au, &created)
	if au.Valid {
		b := au.Int64 != 0
		rt.AutoUpdate = &b
	}
	rt.CreatedAt = fromMS(created)
	return rt, err
}

func boolPtr(b *bool) any {
	if b == nil {
		return nil
	}
	if *b {
		return 1
	}
	return 0
}

func (s *Store) CreateRuntime(ctx context.Context, rt store.Runtime) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO runtimes (`+runtimeCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		rt.ID, rt.Name, rt.Description, rt.MaxNodes, rt.Key1, rt.Key2, rt.DesiredVersion, rt.VersionConstraint, boolPtr(rt.AutoUpdate), ms(rt.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("runtime %q: %w", rt.Name, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create runtime: %w", err)
	}
	return nil
}

func (s *Store) Runtime(ctx context.Context, idOrName string) (store.Runtime, error) {
	rt, err := scanRuntime(s.r.QueryRowContext(ctx, `SELECT `+runtimeCols+` FROM runtimes WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1`, idOrName, idOrName, idOrName))
	if errors.Is(err, sql.ErrNoRows) {
		return rt, fmt.Errorf("runtime %q: %w", idOrName, store.ErrNotFound)
	}
	if err != nil {
		return rt, fmt.Errorf("read runtime: %w", err)
	}
	return rt, nil
}

func (s *Store) Runtimes(ctx context.Context) ([]store.Runtime, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+runtimeCols+` FROM runtimes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list runtimes: %w", err)
	}
	defer rows.Close()
	var out []store.Runtime
	for rows.Next() {
		rt, err := scanRuntime(rows)
		if err != nil {
			return nil, fmt.Errorf("list runtimes: %w", err)
		}
		out = append(out, rt)
	}
	return out, rows.Err()
}

func (s *Store) UpdateRuntime(ctx context.Context, rt store.Runtime) error {
	res, err := s.w.ExecContext(ctx, `UPDATE runtimes SET description=?, max_nodes=?, desired_version=?, version_constraint=?, auto_update=? WHERE id=?`,
		rt.Description, rt.MaxNodes, rt.DesiredVersion, rt.VersionConstraint, boolPtr(rt.AutoUpdate), rt.ID)
	if err != nil {
		return fmt.Errorf("update runtime: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("runtime %q: %w", rt.ID, store.ErrNotFound)
	}
	return nil
}

func (s *Store) DeleteRuntime(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM runtimes WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("delete runtime: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("runtime %q: %w", id, store.ErrNotFound)
	}
	return nil
}

func (s *Store) SetKey(ctx context.Context, runtimeID string, slot int, secret string) error {
	col := map[int]string{1: "key1", 2: "key2"}[slot]
	if col == "" {
		return fmt.Errorf("key slot %d: must be 1 or 2", slot)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE runtimes SET `+col+`=? WHERE id=?`, secret, runtimeID)
	if err != nil {
		return fmt.Errorf("set key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("runtime %q: %w", runtimeID, store.ErrNotFound)
	}
	return nil
}

// ---- nodes ----

const nodeCols = `id, runtime_id, name, machine_id, machine, token_hash, version, concurrency, reported_concurrency, registered_at, last_seen, metrics, update_status, remote_access`

func scanNode(row interface{ Scan(...any) error }) (store.Node, error) {
	var n store.Node
	var machine string
	var reg, seen int64
	var metrics, upd sql.NullString
	err := row.Scan(&n.ID, &n.RuntimeID, &n.Name, &n.MachineID, &machine, &n.TokenHash, &n.Version, &n.Concurrency, &n.ReportedConcurrency, &reg, &seen, &metrics, &upd, &n.RemoteAccess)
	n.Machine = json.RawMessage(machine)
	n.RegisteredAt, n.LastSeen = fromMS(reg), fromMS(seen)
	n.Metrics, n.Update = rawOrNil(metrics), rawOrNil(upd)
	return n, err
}

func (s *Store) Register(ctx context.Context, r store.Registration) (store.Node, bool, error) {
	var out store.Node
	var rereg bool
	machine := string(r.Machine)
	if machine == "" {
		machine = "{}"
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var maxNodes int
		if err := tx.QueryRowContext(ctx, `SELECT max_nodes FROM runtimes WHERE id=?`, r.RuntimeID).Scan(&maxNodes); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("runtime %q: %w", r.RuntimeID, store.ErrNotFound)
			}
			return err
		}
		var existingID, existingMachine string
		err := tx.QueryRowContext(ctx, `SELECT id, machine_id FROM nodes WHERE runtime_id=? AND name=?`, r.RuntimeID, r.Name).Scan(&existingID, &existingMachine)
		if err == nil && existingMachine != r.MachineID {
			return fmt.Errorf("node name %q: %w", r.Name, store.ErrNodeNameUsed)
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var id string
		err = tx.QueryRowContext(ctx, `SELECT id FROM nodes WHERE runtime_id=? AND machine_id=?`, r.RuntimeID, r.MachineID).Scan(&id)
		switch {
		case err == nil:
			rereg = true
			_, err = tx.ExecContext(ctx, `UPDATE nodes SET name=?, machine=?, token_hash=?, version=? WHERE id=?`, r.Name, machine, r.TokenHash, r.Version, id)
			if err != nil {
				return err
			}
		case errors.Is(err, sql.ErrNoRows):
			var count int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM nodes WHERE runtime_id=?`, r.RuntimeID).Scan(&count); err != nil {
				return err
			}
			if count >= maxNodes {
				return fmt.Errorf("runtime has %d of %d nodes: %w", count, maxNodes, store.ErrRuntimeFull)
			}
			id = r.NewNodeID
			_, err = tx.ExecContext(ctx, `INSERT INTO nodes (id, runtime_id, name, machine_id, machine, token_hash, version, registered_at) VALUES (?,?,?,?,?,?,?,?)`,
				id, r.RuntimeID, r.Name, r.MachineID, machine, r.TokenHash, r.Version, ms(r.Now))
			if err != nil {
				return err
			}
		default:
			return err
		}
		out, err = scanNode(tx.QueryRowContext(ctx, `SELECT `+nodeCols+` FROM nodes WHERE id=?`, id))
		return err
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrNodeNameUsed) || errors.Is(err, store.ErrRuntimeFull) {
			return out, false, err
		}
		return out, false, fmt.Errorf("register node: %w", err)
	}
	return out, rereg, nil
}

func (s *Store) Nodes(ctx context.Context, runtimeID string) ([]store.Node, error) {
	q := `SELECT ` + nodeCols + ` FROM nodes`
	var args []any
	if runtimeID != "" {
		q += ` WHERE runtime_id=?`
		args = append(args, runtimeID)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY runtime_id, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	defer rows.Close()
	var out []store.Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *Store) DeleteNode(ctx context.Context, id string, now time.Time) ([]store.Job, error) {
	var jobs []store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		jobs, err = releaseNode(ctx, tx, id, now)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE id=?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("node %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("delete node: %w", err)
	}
	return jobs, err
}

func (s *Store) SetConcurrency(ctx context.Context, nodeID string, n int) error {
	res, err := s.w.ExecContext(ctx, `UPDATE nodes SET concurrency=? WHERE id=?`, n, nodeID)
	if err != nil {
		return fmt.Errorf("set concurrency: %w", err)
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return fmt.Errorf("node %q: %w", nodeID, store.ErrNotFound)
	}
	return nil
}

func (s *Store) SaveHeartbeats(ctx context.Context, hbs []store.Heartbeat) error {
	if len(hbs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE nodes SET last_seen=?, version=?, reported_concurrency=?, metrics=?, update_status=?, remote_access=? WHERE id=?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, h := range hbs {
			if _, err := st.ExecContext(ctx, ms(h.LastSeen), h.Version, h.ReportedConcurrency, nullRaw(h.Metrics), nullRaw(h.Update), h.RemoteAccess, h.NodeID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save heartbeats: %w", err)
	}
	return nil
}

// ---- jobs ----

const jobCols = `id, runtime_id, kind, spec, state, attempts, max_attempts, lease_seconds, node_id, lease_expires, cancel_requested, progress, progress_message, progress_bytes, error, output, created_at, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (store.Job, error) {
	var j store.Job
	var spec string
	var node, output sql.NullString
	var lease, created, started, finished int64
	var cancel int
	err := row.Scan(&j.ID, &j.RuntimeID, &j.Kind, &spec, &j.State, &j.Attempts, &j.MaxAttempts, &j.LeaseSeconds, &node, &lease, &cancel,
		&j.Progress, &j.ProgressMessage, &j.ProgressBytes, &j.Error, &output, &created, &started, &finished)
	j.Spec = json.RawMessage(spec)
	j.NodeID = node.String
	j.LeaseExpiresAt, j.CreatedAt, j.StartedAt, j.FinishedAt = fromMS(lease), fromMS(created), fromMS(started), fromMS(finished)
	j.CancelRequested = cancel != 0
	j.Output = rawOrNil(output)
	return j, err
}

func queryJobs(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]store.Job, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func (s *Store) CreateJob(ctx context.Context, j store.Job) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs (id, runtime_id, kind, spec, state, max_attempts, lease_seconds, created_at) VALUES (?,?,?,?,?,?,?,?)`,
			j.ID, j.RuntimeID, j.Kind, string(j.Spec), api.JobQueued, j.MaxAttempts, j.LeaseSeconds, ms(j.CreatedAt))
		if err != nil {
			if strings.Contains(err.Error(), "FOREIGN KEY") {
				return fmt.Errorf("runtime %q: %w", j.RuntimeID, store.ErrNotFound)
			}
			return err
		}
		out, err = scanJob(tx.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id=?`, j.ID))
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("create job: %w", err)
	}
	return out, err
}

func (s *Store) Job(ctx context.Context, id string) (store.Job, error) {
	j, err := scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("job %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return j, fmt.Errorf("read job: %w", err)
	}
	return j, nil
}

func (s *Store) Jobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var where []string
	var args []any
	if f.RuntimeID != "" {
		where, args = append(where, "runtime_id=?"), append(args, f.RuntimeID)
	}
	if f.State != "" {
		where, args = append(where, "state=?"), append(args, f.State)
	}
	if f.NodeID != "" {
		where, args = append(where, "node_id=?"), append(args, f.NodeID)
	}
	q := `SELECT ` + jobCols + ` FROM jobs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", limit)
	jobs, err := queryJobs(ctx, s.r, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return jobs, nil
}

func (s *Store) Lease(ctx context.Context, r store.LeaseRequest) ([]store.Job, bool, error) {
	var out []store.Job
	drained := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE node_id=? AND state=?`, r.NodeID, api.JobLeased).Scan(&held); err != nil {
			return err
		}
		n := min(r.Max, r.Limit-held)
		if n <= 0 {
			return nil
		}
		now := ms(r.Now)
		var err error
		out, err = queryJobs(ctx, tx, `UPDATE jobs SET state=?, node_id=?, attempts=attempts+1, lease_expires=?+lease_seconds*1000,
			started_at=CASE WHEN started_at=0 THEN ? ELSE started_at END, progress=0, progress_message='', progress_bytes=0
			WHERE seq IN (SELECT seq FROM jobs WHERE runtime_id=? AND state=? ORDER BY seq LIMIT ?)
			RETURNING `+jobCols, api.JobLeased, r.NodeID, now, now, r.RuntimeID, api.JobQueued, n)
		drained = len(out) < n
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("lease jobs: %w", err)
	}
	return out, drained, nil
}

// leased reads a job inside tx and checks that (node, attempt) holds its lease.
func leased(ctx context.Context, tx *sql.Tx, jobID, nodeID string, attempt int) (store.Job, error) {
	j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id=?`, jobID))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("job %q: %w", jobID, store.ErrNotFound)
	}
	if err != nil {
		return j, err
	}
	if j.State != api.JobLeased || j.NodeID != nodeID || j.Attempts != attempt {
		return j, fmt.Errorf("job %q attempt %d: %w", jobID, attempt, store.ErrLeaseLost)
	}
	return j, nil
}

func wrapJobErr(op string, err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrFinal) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (s *Store) Renew(ctx context.Context, jobID, nodeID string, attempt int, now time.Time) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := leased(ctx, tx, jobID, nodeID, attempt)
		if err != nil {
			return err
		}
		j.LeaseExpiresAt = now.Add(time.Duration(j.LeaseSeconds) * time.Second)
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET lease_expires=? WHERE id=?`, ms(j.LeaseExpiresAt), jobID)
		out = j
		return err
	})
	return out, wrapJobErr("renew lease", err)
}

func (s *Store) ReportProgress(ctx context.Context, p store.Progress) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := leased(ctx, tx, p.JobID, p.NodeID, p.Attempt)
		if err != nil {
			return err
		}
		j.LeaseExpiresAt = p.Now.Add(time.Duration(j.LeaseSeconds) * time.Second)
		j.Progress, j.ProgressMessage, j.ProgressBytes = p.Percent, p.Message, p.Bytes
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET lease_expires=?, progress=?, progress_message=?, progress_bytes=? WHERE id=?`,
			ms(j.LeaseExpiresAt), p.Percent, p.Message, p.Bytes, p.JobID)
		out = j
		return err
	})
	return out, wrapJobErr("report progress", err)
}

func (s *Store) Finish(ctx context.Context, r store.Result) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := leased(ctx, tx, r.JobID, r.NodeID, r.Attempt)
		if err != nil {
			return err
		}
		state := api.JobSucceeded
		node := sql.NullString{String: r.NodeID, Valid: true}
		finished := ms(r.Now)
		extra := 0 // attempts added to max_attempts
		switch r.Outcome {
		case api.OutcomeSucceeded:
		case api.OutcomeCancelled:
			state = api.JobCancelled
		case api.OutcomeReleased:
			// Back to the queue; the attempt number keeps counting up (it
			// fences stale renewals), so the job gets one more attempt.
			state, node, finished, extra = api.JobQueued, sql.NullString{}, 0, 1
			if j.CancelRequested {
				state, node, finished, extra = api.JobCancelled, sql.NullString{String: r.NodeID, Valid: true}, ms(r.Now), 0
			}
		default:
			state = api.JobFailed
			if r.Retryable && !j.CancelRequested {
				if j.Attempts < j.MaxAttempts {
					state, node, finished = api.JobQueued, sql.NullString{}, 0
				} else {
					state = api.JobDead
				}
			} else if j.CancelRequested {
				state = api.JobCancelled
			}
		}
		out, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET state=?, node_id=?, lease_expires=0, error=?, output=?, finished_at=?, max_attempts=max_attempts+? WHERE id=? RETURNING `+jobCols,
			state, node, r.Error, nullRaw(r.Output), finished, extra, r.JobID))
		return err
	})
	return out, wrapJobErr("finish job", err)
}

func (s *Store) Cancel(ctx context.Context, id string, now time.Time) (store.Job, error) {
	var out store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id=?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("job %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		switch j.State {
		case api.JobQueued:
			out, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET state=?, finished_at=? WHERE id=? RETURNING `+jobCols, api.JobCancelled, ms(now), id))
		case api.JobLeased:
			out, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET cancel_requested=1 WHERE id=? RETURNING `+jobCols, id))
		default:
			out = j
			return fmt.Errorf("job %q is %s: %w", id, j.State, store.ErrFinal)
		}
		return err
	})
	return out, wrapJobErr("cancel job", err)
}

// release puts leased jobs back: cancelled when a cancel was asked, dead
// when attempts are used up, else queued.
const release = `UPDATE jobs SET
	state = CASE WHEN cancel_requested=1 THEN 'cancelled' WHEN attempts>=max_attempts THEN 'dead' ELSE 'queued' END,
	node_id = CASE WHEN cancel_requested=1 OR attempts>=max_attempts THEN node_id ELSE NULL END,
	error = CASE WHEN cancel_requested=1 OR attempts>=max_attempts THEN ? ELSE error END,
	finished_at = CASE WHEN cancel_requested=1 OR attempts>=max_attempts THEN ? ELSE 0 END,
	lease_expires = 0`

func releaseNode(ctx context.Context, tx *sql.Tx, nodeID string, now time.Time) ([]store.Job, error) {
	return queryJobs(ctx, tx, release+` WHERE node_id=? AND state=? RETURNING `+jobCols,
		"the node holding the lease went away", ms(now), nodeID, api.JobLeased)
}

func (s *Store) ExpireLeases(ctx context.Context, now time.Time) ([]store.Job, error) {
	var out []store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryJobs(ctx, tx, release+` WHERE state=? AND lease_expires<? RETURNING `+jobCols,
			"lease expired", ms(now), api.JobLeased, ms(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("expire leases: %w", err)
	}
	return out, nil
}

func (s *Store) RequeueNode(ctx context.Context, nodeID string, now time.Time) ([]store.Job, error) {
	var out []store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = releaseNode(ctx, tx, nodeID, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("requeue jobs of node: %w", err)
	}
	return out, nil
}
