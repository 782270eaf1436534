"""Environment snapshots of installed versions: taking them (`capture`), restoring one
(`restore`), the restore's journal (`journal`) and settling a restore that was killed
(`recover`). Records live in `store/envsnap_records.py`; SVG screen snapshots are a test
matter only (`tests/ui/snapshots/`)."""
