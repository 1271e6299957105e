-- Mean ± sd over seeds of every final metric, per sweep, profile (a ci run of the same sweep in the
-- same database is kept apart), arm and grid point (the tables in the README's pretraining
-- results): iclr query "$(cat results/queries/arms.sql)" --format markdown
SELECT s.name AS sweep, COALESCE(s.profile, '') AS profile, r.arm,
       json_extract(r.config_json, '$.method.params.crop_min_scale') AS crop,
       f.key, COUNT(*) AS n, printf('%.3f ± %.3f', AVG(f.value), stdev(f.value)) AS mean_sd
FROM runs r
JOIN sweeps s ON s.id = r.sweep_id
JOIN final_metrics f ON f.run_id = r.id AND f.task IS NULL   -- whole-run values, not per task
WHERE r.status = 'done'
GROUP BY s.name, s.profile, r.arm, crop, f.key
ORDER BY s.name, s.profile, f.key, r.arm, crop;
