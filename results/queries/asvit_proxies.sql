-- As-ViT proxies (sweeps/asvit_proxies.toml): Spearman rho of each proxy, the parameter count and the
-- token count with the trained accuracy, over all architectures and within each patch size. One row
-- per architecture (its model section), averaged over seeds.
-- Run with the sweep it reads (its trials as written are sweep_runs):
--   iclr query --sweep sweeps/asvit_proxies.toml "$(cat results/queries/asvit_proxies.sql)"
WITH arch AS (
  SELECT json_extract(r.config_json, '$.model.params.patch') AS patch, AVG(CAST(pc.value AS REAL)) AS params,
         AVG(k.value) AS kappa, AVG(l.value) AS len, AVG(a.value) AS acc
  FROM runs r JOIN sweep_runs sr ON sr.id = r.id
  JOIN final_metrics k ON k.run_id = r.id AND k.key = 'ntk_condition'
  JOIN final_metrics l ON l.run_id = r.id AND l.key = 'length_distortion'
  JOIN final_metrics a ON a.run_id = r.id AND a.key = 'avg_accuracy'
  JOIN attributes pc ON pc.run_id = r.id AND pc.key = 'param_count'
  WHERE r.status = 'done'
  GROUP BY json_extract(r.config_json, '$.model'))
SELECT 'all' AS patch, COUNT(*) AS archs, round(spearman(kappa, acc), 3) AS rho_kappa,
       round(spearman(len, acc), 3) AS rho_length, round(spearman(params, acc), 3) AS rho_params,
       round(spearman(-patch, acc), 3) AS rho_tokens
FROM arch
UNION ALL
SELECT patch, COUNT(*), round(spearman(kappa, acc), 3), round(spearman(len, acc), 3),
       round(spearman(params, acc), 3), NULL
FROM arch GROUP BY patch
