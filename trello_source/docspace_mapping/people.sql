-- Room members from Trello: board members (admins as owners, observers as observers); deactivated
-- members are skipped. Columns: room_key, email, name, role
SELECT 'trello:board:' || b.id AS room_key, lower(trim(m.email)) AS email,
       coalesce(m.full_name, m.username, bm.id_member) AS name,
       CASE bm.member_type WHEN 'admin' THEN 'owner' WHEN 'observer' THEN 'observer' ELSE 'member' END AS role
FROM trello_data.boards b
JOIN trello_data.boards__memberships bm ON bm._dlt_parent_id = b._dlt_id
LEFT JOIN trello_data.members m ON m.id = bm.id_member
WHERE NOT coalesce(bm.deactivated, false)
