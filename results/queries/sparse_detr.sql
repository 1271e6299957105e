-- Sparse DETR (sweeps/sparse_detr.toml): per arm and kept share rho, the mean over seeds of exact
-- match (all three digits right), digit accuracy, encoder MFLOPs per canvas and the share of the
-- decoder's attention that falls on the kept tokens.
-- Run with the sweep it reads (its trials as written are sweep_runs):
--   iclr query --sweep sweeps/sparse_detr.toml "$(cat results/queries/sparse_detr.sql)"
SELECT sr.arm, json_extract(r.config_json, '$.model.params.keep') AS keep, COUNT(DISTINCT r.id) AS runs,
       round(AVG(CASE WHEN f.key = 'exact_match' THEN f.value END), 3) AS exact_match,
       round(AVG(CASE WHEN f.key = 'digit_accuracy' THEN f.value END), 3) AS digit_accuracy,
       round(AVG(CASE WHEN f.key = 'encoder_flops' THEN f.value END) / 1e6, 2) AS encoder_mflops,
       round(AVG(CASE WHEN f.key = 'dam_captured' THEN f.value END), 3) AS dam_captured,
       round(AVG(r.duration_s), 1) AS seconds
FROM runs r JOIN sweep_runs sr ON sr.id = r.id JOIN final_metrics f ON f.run_id = r.id
WHERE r.status = 'done'
  AND f.key IN ('exact_match', 'digit_accuracy', 'encoder_flops', 'dam_captured')
GROUP BY sr.arm, keep
ORDER BY sr.arm, keep;
