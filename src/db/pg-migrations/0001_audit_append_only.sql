-- Hand-written: drizzle-kit does not model triggers. The audit log and its checkpoints are
-- append-only in the database itself, as in SQLite, and an insert must extend the chain head:
-- two nodes that both read the same head cannot both append, so the chain stays linear even for
-- a writer that skips the advisory lock.
CREATE FUNCTION enclave_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
--> statement-breakpoint
CREATE FUNCTION enclave_audit_delete_behind_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_checkpoints WHERE seq >= OLD.seq) THEN
    RAISE EXCEPTION 'audit_log is append-only; only entries behind a retention checkpoint may be removed' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE FUNCTION enclave_audit_extends_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_seq bigint;
  head_hash text;
BEGIN
  SELECT seq, hash INTO head_seq, head_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
  IF head_seq IS NULL THEN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1;
  END IF;
  IF NEW.seq <> coalesce(head_seq, 0) + 1 OR NEW.prev_hash <> coalesce(head_hash, repeat('0', 64)) THEN
    RAISE EXCEPTION 'audit entry seq % does not extend the chain head (seq %)', NEW.seq, coalesce(head_seq, 0) USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION enclave_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION enclave_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION enclave_audit_delete_behind_checkpoint();
--> statement-breakpoint
CREATE TRIGGER audit_log_extends_head BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION enclave_audit_extends_head();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION enclave_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION enclave_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION enclave_refuse_change();
