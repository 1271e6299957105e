-- Forgetting of task A (task 0) by model size and arm (scratch, or how it was pretrained):
-- acc_A after A minus acc_A after B, mean and sample sd over seeds, with the final accuracies on
-- A and B. stdev() is iclr's SQL statistics extension (loaded by iclr query; `.load
-- build/lib/iclr_stats` in sqlite3).
-- Run with the sweep it reads (its trials as written are sweep_runs; also the CNN sweep):
--   iclr query --sweep sweeps/forgetting_vs_scale.toml "$(cat results/queries/forgetting_vs_scale.sql)"
WITH runs_ab AS (
  SELECT r.id, r.model, COALESCE(sr.arm, '') AS arm, r.seed,
         (SELECT value FROM params WHERE run_id = r.id AND key = 'model.width') AS width,
         (SELECT value FROM params WHERE run_id = r.id AND key = 'method.lr') AS lr,
         (SELECT value FROM attributes WHERE run_id = r.id AND key = 'pretrained') AS pretrained,
         CAST((SELECT value FROM attributes WHERE run_id = r.id AND key = 'param_count') AS INTEGER) AS params,
         MAX(CASE WHEN a.after_task = 0 AND a.task = 0 THEN a.accuracy END) AS a_after_a,
         MAX(CASE WHEN a.after_task = 1 AND a.task = 0 THEN a.accuracy END) AS a_after_b,
         MAX(CASE WHEN a.after_task = 1 AND a.task = 1 THEN a.accuracy END) AS b_after_b
  FROM runs r JOIN sweep_runs sr ON sr.id = r.id JOIN accuracy_matrix a ON a.run_id = r.id
  WHERE r.status = 'done' AND r.method = 'finetune'
  GROUP BY r.id
)
SELECT model, width, params, arm, pretrained, lr, COUNT(*) AS seeds,
       printf('%.3f', AVG(a_after_a - a_after_b)) AS forgetting,
       printf('%.3f', stdev(a_after_a - a_after_b)) AS sd,
       printf('%.3f', AVG(a_after_b)) AS final_acc_a,
       printf('%.3f', AVG(b_after_b)) AS final_acc_b
FROM runs_ab
GROUP BY model, width, arm, pretrained, lr
ORDER BY model, lr, arm, params;
