-- The A-vs-B frontier: for each model size and pretraining, what accuracy on A survives after
-- learning B (y) against how well B was learned (x), one point per learning rate and epoch count.
-- Run with the sweep it reads (its trials as written are sweep_runs):
--   iclr query --sweep sweeps/forgetting_vs_scale.toml "$(cat results/queries/forgetting_frontier.sql)"
WITH runs_ab AS (
  SELECT r.id, r.model, COALESCE(sr.arm, '') AS arm,
         (SELECT value FROM params WHERE run_id = r.id AND key = 'model.width') AS width,
         (SELECT value FROM params WHERE run_id = r.id AND key = 'method.lr') AS lr,
         (SELECT value FROM params WHERE run_id = r.id AND key = 'method.epochs') AS epochs,
         (SELECT value FROM attributes WHERE run_id = r.id AND key = 'pretrained') AS pretrained,
         MAX(CASE WHEN a.after_task = 1 AND a.task = 0 THEN a.accuracy END) AS a_after_b,
         MAX(CASE WHEN a.after_task = 1 AND a.task = 1 THEN a.accuracy END) AS b_after_b
  FROM runs r JOIN sweep_runs sr ON sr.id = r.id JOIN accuracy_matrix a ON a.run_id = r.id
  WHERE r.status = 'done' AND r.method = 'finetune'
  GROUP BY r.id
)
SELECT model, width, arm, pretrained, lr, epochs, COUNT(*) AS seeds,
       printf('%.3f', AVG(b_after_b)) AS acc_b, printf('%.3f', AVG(a_after_b)) AS acc_a_after_b
FROM runs_ab
GROUP BY model, width, arm, pretrained, lr, epochs
ORDER BY model, arm, width, lr, epochs;
