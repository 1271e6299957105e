-- SimVLM at digit scale (sweeps/simvlm.toml): per arm, the mean and range over seeds of exact
-- match, token accuracy and zero-shot accuracy on held-out canvases.
-- Run with the sweep it reads (its trials as written are sweep_runs):
--   iclr query --sweep sweeps/simvlm.toml "$(cat results/queries/simvlm.sql)"
SELECT sr.arm, COUNT(DISTINCT r.id) AS runs,
       round(AVG(CASE WHEN f.key = 'exact_match' THEN f.value END), 3) AS exact_match,
       round(MIN(CASE WHEN f.key = 'exact_match' THEN f.value END), 3) AS exact_min,
       round(MAX(CASE WHEN f.key = 'exact_match' THEN f.value END), 3) AS exact_max,
       round(AVG(CASE WHEN f.key = 'token_accuracy' THEN f.value END), 3) AS token_accuracy,
       round(AVG(CASE WHEN f.key = 'zero_shot_accuracy' THEN f.value END), 3) AS zero_shot,
       round(AVG(CASE WHEN f.key = 'train_loss' THEN f.value END), 3) AS last_train_loss,
       round(AVG(r.duration_s), 1) AS seconds
FROM runs r JOIN sweep_runs sr ON sr.id = r.id JOIN final_metrics f ON f.run_id = r.id
WHERE r.status = 'done'
GROUP BY sr.arm
ORDER BY exact_match DESC;
