using System.Globalization;
using System.Text;
using FaceDistill.Core;

namespace FaceDistill.Training;

/// <summary><c>metrics.csv</c>: one row per logged step (step, epoch, loss, lr, images_per_s) and one per evaluation,
/// with the evaluation metrics in their own columns (empty elsewhere). On resume, rows past the checkpoint's step are
/// dropped, so the log matches the weights.</summary>
public sealed class MetricsLog
{
    private readonly string _path;
    private readonly string[] _evalColumns;
    public static readonly string[] BaseColumns = ["step", "epoch", "loss", "lr", "images_per_s"];

    public MetricsLog(string path, IEnumerable<string> evalColumns, long resumeStep = -1)
    {
        _path = path;
        _evalColumns = evalColumns.Select(c => "val_" + c).ToArray();
        var header = string.Join(',', BaseColumns.Concat(_evalColumns));
        if (resumeStep >= 0 && File.Exists(path))
        {
            // a row torn by a kill or a full disk (fewer fields than the header) is dropped with the rows past the step
            int fields = BaseColumns.Length + _evalColumns.Length;
            var kept = File.ReadAllLines(path)
                .Skip(1)
                .Where(l =>
                    l.Split(',') is var cells
                    && cells.Length == fields
                    && long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
                    && s <= resumeStep
                );
            AtomicFile.WriteAllText(path, string.Join('\n', kept.Prepend(header)) + "\n");
        }
        else
            AtomicFile.WriteAllText(path, header + "\n");
    }

    public void LogStep(long step, int epoch, double loss, double lr, double imagesPerSecond) =>
        Append(step, epoch, loss, lr, imagesPerSecond, null);

    public void LogEval(long step, int epoch, IReadOnlyDictionary<string, double> metrics) =>
        Append(step, epoch, double.NaN, double.NaN, double.NaN, metrics);

    private void Append(
        long step,
        int epoch,
        double loss,
        double lr,
        double ips,
        IReadOnlyDictionary<string, double>? eval
    )
    {
        static string F(double v) => double.IsNaN(v) ? "" : v.ToString("G6", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append(step)
            .Append(',')
            .Append(epoch)
            .Append(',')
            .Append(F(loss))
            .Append(',')
            .Append(F(lr))
            .Append(',')
            .Append(F(ips));
        foreach (var c in _evalColumns)
            sb.Append(',').Append(eval is not null && eval.TryGetValue(c[4..], out var v) ? F(v) : "");
        File.AppendAllText(_path, sb.Append('\n').ToString());
    }
}
