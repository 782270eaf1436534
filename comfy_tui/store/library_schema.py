"""The model library's schema (`library.db`): its ordered migrations, one string each.

Migration *i* (1-based) moves `PRAGMA user_version` from *i - 1* to *i* (see sqlite_open.py).
Constants only: the synchronous scan and the async connection both read it.
"""

from __future__ import annotations

__all__ = ["LIBRARY_MIGRATIONS"]

LIBRARY_MIGRATIONS: tuple[str, ...] = (
    # 1: the models table, its indexes, and an external-content FTS5 index kept by triggers.
    """
    CREATE TABLE models (
        id          INTEGER PRIMARY KEY,
        root        TEXT    NOT NULL,
        relpath     TEXT    NOT NULL,
        folder      TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        dev         INTEGER NOT NULL DEFAULT 0,
        ino         INTEGER NOT NULL DEFAULT 0,
        sha256      TEXT,
        format      TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        problem     TEXT    NOT NULL DEFAULT '',
        kind        TEXT    NOT NULL DEFAULT '',
        architecture TEXT   NOT NULL DEFAULT '',
        parameters  INTEGER,
        tensors     INTEGER,
        dtypes      TEXT    NOT NULL DEFAULT '',
        metadata    TEXT    NOT NULL DEFAULT '{}',
        tags        TEXT    NOT NULL DEFAULT '',
        source_url  TEXT,
        source_repo TEXT,
        source_revision TEXT,
        added_at    REAL    NOT NULL,
        UNIQUE (root, relpath)
    );
    CREATE INDEX models_sha256 ON models (sha256);
    CREATE INDEX models_folder ON models (folder, name);
    CREATE INDEX models_size ON models (size);
    CREATE VIRTUAL TABLE models_fts USING fts5 (
        name, folder, architecture, tags,
        content = 'models', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 2"
    );
    CREATE TRIGGER models_ai AFTER INSERT ON models BEGIN
        INSERT INTO models_fts (rowid, name, folder, architecture, tags)
        VALUES (new.id, new.name, new.folder, new.architecture, new.tags);
    END;
    CREATE TRIGGER models_ad AFTER DELETE ON models BEGIN
        INSERT INTO models_fts (models_fts, rowid, name, folder, architecture, tags)
        VALUES ('delete', old.id, old.name, old.folder, old.architecture, old.tags);
    END;
    CREATE TRIGGER models_au AFTER UPDATE OF name, folder, architecture, tags ON models
    BEGIN
        INSERT INTO models_fts (models_fts, rowid, name, folder, architecture, tags)
        VALUES ('delete', old.id, old.name, old.folder, old.architecture, old.tags);
        INSERT INTO models_fts (rowid, name, folder, architecture, tags)
        VALUES (new.id, new.name, new.folder, new.architecture, new.tags);
    END;
    """,
    # 2: hashes of files outside the index (versions' own models/), keyed by identity.
    """
    CREATE TABLE hash_cache (
        dev      INTEGER NOT NULL,
        ino      INTEGER NOT NULL,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256   TEXT    NOT NULL,
        PRIMARY KEY (dev, ino)
    );
    """,
    # 3: the commit a download's revision pointed at (Hugging Face), beside its revision.
    """
    ALTER TABLE models ADD COLUMN source_commit TEXT;
    """,
    # 4: what CivitAI says about a file, by its sha256 (also "not found"), and an FTS5 index
    # over its words so that search finds a model by its CivitAI name or trigger words.
    """
    CREATE TABLE civitai (
        sha256        TEXT    PRIMARY KEY,
        found         INTEGER NOT NULL,
        looked_up_at  REAL    NOT NULL,
        model_id      INTEGER,
        version_id    INTEGER,
        model_name    TEXT    NOT NULL DEFAULT '',
        version_name  TEXT    NOT NULL DEFAULT '',
        model_type    TEXT    NOT NULL DEFAULT '',
        base_model    TEXT    NOT NULL DEFAULT '',
        trained_words TEXT    NOT NULL DEFAULT '[]'
    );
    CREATE VIRTUAL TABLE civitai_fts USING fts5 (
        model_name, version_name, base_model, trained_words,
        content = 'civitai', content_rowid = 'rowid',
        tokenize = "unicode61 remove_diacritics 2"
    );
    CREATE TRIGGER civitai_ai AFTER INSERT ON civitai BEGIN
        INSERT INTO civitai_fts (rowid, model_name, version_name, base_model, trained_words)
        VALUES (new.rowid, new.model_name, new.version_name, new.base_model, new.trained_words);
    END;
    CREATE TRIGGER civitai_ad AFTER DELETE ON civitai BEGIN
        INSERT INTO civitai_fts (civitai_fts, rowid, model_name, version_name, base_model,
                                 trained_words)
        VALUES ('delete', old.rowid, old.model_name, old.version_name, old.base_model,
                old.trained_words);
    END;
    CREATE TRIGGER civitai_au AFTER UPDATE ON civitai BEGIN
        INSERT INTO civitai_fts (civitai_fts, rowid, model_name, version_name, base_model,
                                 trained_words)
        VALUES ('delete', old.rowid, old.model_name, old.version_name, old.base_model,
                old.trained_words);
        INSERT INTO civitai_fts (rowid, model_name, version_name, base_model, trained_words)
        VALUES (new.rowid, new.model_name, new.version_name, new.base_model, new.trained_words);
    END;
    """,
    # 5: this index's identity and a count of its stamp changes, kept by triggers, which label
    # the rescan's stamp cache (stamp_cache.py): any writer's change makes that cache stale.
    """
    CREATE TABLE stamp_gen (
        id TEXT    NOT NULL,
        n  INTEGER NOT NULL
    );
    INSERT INTO stamp_gen (id, n) VALUES (lower(hex(randomblob(16))), 0);
    CREATE TRIGGER models_gen_ai AFTER INSERT ON models BEGIN
        UPDATE stamp_gen SET n = n + 1;
    END;
    CREATE TRIGGER models_gen_ad AFTER DELETE ON models BEGIN
        UPDATE stamp_gen SET n = n + 1;
    END;
    CREATE TRIGGER models_gen_au AFTER UPDATE OF root, relpath, size, mtime_ns, ino ON models
    BEGIN
        UPDATE stamp_gen SET n = n + 1;
    END;
    """,
)
