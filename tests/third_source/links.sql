-- Write-back links of the test source: "DocSpace room" on each notebook with an applied room.
-- Columns: key, target, name
SELECT key, substr(key, length('notes:book:') + 1) AS target, 'DocSpace room' AS name
FROM docspace_entries
WHERE status = 'applied' AND docspace_id IS NOT NULL AND kind = 'room'
