-- Linear-probe accuracy per task (mean ± sd over seeds), per sweep, profile, arm and distractor level: the
-- task-induced table in the README (task 0 = the prior task, task 1 = the unseen one):
-- iclr query "$(cat results/queries/probe_per_task.sql)" --format markdown
SELECT s.name AS sweep, COALESCE(s.profile, '') AS profile, r.arm,
       json_extract(r.config_json, '$.dataset.params.distractors') AS distractors,
       f.task, COUNT(*) AS n, printf('%.3f ± %.3f', AVG(f.value), stdev(f.value)) AS probe_acc
FROM runs r
JOIN sweeps s ON s.id = r.sweep_id
JOIN final_metrics f ON f.run_id = r.id AND f.key = 'probe_acc' AND f.task IS NOT NULL
WHERE r.status = 'done'
GROUP BY s.name, s.profile, r.arm, distractors, f.task
ORDER BY s.name, s.profile, distractors, f.task, r.arm;
