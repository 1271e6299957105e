-- LP-FT (sweeps/lp_ft.toml): ID and shifted-test accuracy and feature distortion per pretraining
-- objective and method, means over seeds.
-- Run with the sweep it reads (its trials as written are sweep_runs):
--   iclr query --sweep sweeps/lp_ft.toml "$(cat results/queries/lp_ft.sql)"
SELECT json_extract(r.config_json, '$.method.params.pretrain_objective') AS pretraining,
       sr.arm AS method,
       COUNT(DISTINCT r.seed) AS seeds,
       ROUND(AVG(CASE WHEN f.key = 'avg_accuracy' THEN f.value END), 3) AS id_acc,
       ROUND(AVG(CASE WHEN f.key = 'ood_accuracy' THEN f.value END), 3) AS ood_mean,
       ROUND(AVG(CASE WHEN f.key = 'ood_accuracy_rotation' THEN f.value END), 3) AS rotated,
       ROUND(AVG(CASE WHEN f.key = 'ood_accuracy_stroke' THEN f.value END), 3) AS thicker,
       ROUND(AVG(CASE WHEN f.key = 'ood_accuracy_noise' THEN f.value END), 3) AS noisy,
       ROUND(AVG(CASE WHEN f.key = 'ood_accuracy_contrast' THEN f.value END), 3) AS low_contrast,
       ROUND(AVG(CASE WHEN f.key = 'feature_distortion_id' THEN f.value END), 1) AS distortion_id,
       ROUND(AVG(CASE WHEN f.key = 'feature_distortion_ood' THEN f.value END), 1) AS distortion_ood
FROM runs r
JOIN sweep_runs sr ON sr.id = r.id
JOIN final_metrics f ON f.run_id = r.id
WHERE r.status = 'done'
GROUP BY pretraining, method
ORDER BY pretraining DESC, method
