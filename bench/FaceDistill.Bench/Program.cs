using FaceDistill.Data; using FaceDistill.Data.Synthetic; using SkiaSharp;
var ds = new SyntheticFaces(new SyntheticOptions { Identities = 8, ImagesPerIdentity = 8, Size = 112 });
using var grid = new SKBitmap(8*112, 8*112);
using var c = new SKCanvas(grid);
using var dot = new SKPaint { Color = SKColors.Lime, IsAntialias = true };
for (int i = 0; i < ds.Count; i++) {
  var (img, lm) = ds.Render(i);
  using var b = ImageCodec.ToBitmap(img);
  int x = (i % 8) * 112, y = (i / 8) * 112;
  c.DrawBitmap(b, x, y);
  if (i % 8 == 0) for (int k = 0; k < 68; k++) c.DrawCircle(x + lm[2*k], y + lm[2*k+1], 1f, dot);
}
ImageCodec.SaveBitmap(grid, "/tmp/viz/grid.png");
var sw = System.Diagnostics.Stopwatch.StartNew(); int n=0;
var big = new SyntheticFaces(new SyntheticOptions { Identities = 50, ImagesPerIdentity = 20, Size = 112 });
for (int i = 0; i < 1000; i++) { big.Image(i); n++; }
Console.WriteLine($"{n / sw.Elapsed.TotalSeconds:F0} faces/s");
