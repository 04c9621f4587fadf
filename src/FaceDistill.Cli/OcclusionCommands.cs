using System.CommandLine;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces;
using FaceDistill.Faces.Occlusion;

namespace FaceDistill.Cli;

/// <summary><c>facedistill occlude</c>: occluded copies of a folder of faces, and a contact sheet of every
/// occluder.</summary>
internal static class OcclusionCommands
{
    public static Command Occlude()
    {
        var input = new Argument<string>("input")
        {
            Description = "A folder of face images (with landmarks), or 'synthetic'",
        };
        var landmarks = new Option<string?>("--landmarks")
        {
            Description =
                "Landmarks CSV (default: <input>/landmarks.csv); 'zoo': face-api's landmark net on each whole image "
                + "(face crops); 'detect': every face --detector finds (photos)",
        };
        var occluder = new Option<string>("--occluder")
        {
            Description = "mask, mask:surgical, mask:n95, mask:cloth, mask:varied, scarf, hand, vr, sunglasses",
            DefaultValueFactory = _ => "mask",
        };
        var outDir = new Option<string?>("--out")
        {
            Description = "Write an occluded copy of every image here (same relative paths)",
        };
        var grid = new Option<string?>("--grid")
        {
            Description = "Write a contact sheet (rows: faces; columns: clean and every occluder) to this PNG/JPEG",
        };
        var faces = new Option<int>("--faces")
        {
            Description = "Rows of the contact sheet",
            DefaultValueFactory = _ => 6,
        };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var detector = new Option<string>("--detector")
        {
            Description =
                "With --landmarks detect: the detector that finds the faces on the clean photo "
                + $"({string.Join(", ", FaceDetectors.Names)})",
            DefaultValueFactory = _ => "tiny",
        };
        var cmd = new Command(
            "occlude",
            "Draw synthetic occluders (face masks, scarves, hands, VR headset, sunglasses) from the 68 landmarks"
        )
        {
            input,
            landmarks,
            occluder,
            outDir,
            grid,
            faces,
            seed,
            detector,
            Commands.QuietOption,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                Commands.Common(p);
                string src = p.GetValue(input)!;
                string? dir = p.GetValue(outDir),
                    gridPath = p.GetValue(grid);
                int seedValue = p.GetValue(seed);
                if (dir is null && gridPath is null)
                    throw new FaceDistillException("nothing to do: give --out and/or --grid");
                if (gridPath is not null)
                    Commands.CheckImageOutput(gridPath, "--grid");
                if (p.GetValue(faces) is < 1 or > 1000)
                    throw new FaceDistillException($"--faces must be in [1, 1000], found {p.GetValue(faces)}");
                var occ = Occluder.Parse(p.GetValue(occluder)!);
                void Unreadable(OcclusionReport r)
                {
                    foreach (var u in r.Unreadable)
                        Console.Error.WriteLine($"skipped: {u}");
                    if (r.Unreadable.Count > 0)
                        Console.Error.WriteLine($"{r.Unreadable.Count} unreadable files skipped");
                }
                var rows = new List<(RgbImage, float[])>();
                if (src != "synthetic" && p.GetValue(landmarks) == FolderOcclusion.Detect)
                {
                    var found = FolderOcclusion.Detected(
                        src,
                        occ,
                        dir,
                        seedValue,
                        p.GetValue(faces),
                        rows,
                        FaceDetectors.Parse(p.GetValue(detector)!)
                    );
                    Unreadable(found);
                    if (dir is not null)
                        Console.WriteLine(
                            $"wrote {found.Written} images ({found.Faces} faces) with {occ.Name} to {dir}"
                        );
                }
                else
                {
                    var set =
                        src == "synthetic"
                            ? FolderOcclusion.Synthetic(seedValue)
                            : FolderOcclusion.Folder(src, p.GetValue(landmarks));
                    if (dir is not null)
                    {
                        var r = FolderOcclusion.Write(set, occ, dir, seedValue);
                        Unreadable(r);
                        Console.WriteLine(
                            $"wrote {r.Written} images with {occ.Name} to {dir}"
                                + (
                                    r.WithoutLandmarks.Count > 0
                                        ? $"; {r.WithoutLandmarks.Count} without landmarks skipped, e.g. "
                                            + $"{r.WithoutLandmarks[0]}"
                                        : ""
                                )
                        );
                    }
                    if (gridPath is not null)
                        rows = FolderOcclusion.SheetRows(set, p.GetValue(faces), seedValue);
                }
                if (gridPath is not null)
                {
                    using var sheet = OcclusionGrid.Draw(rows, Occluder.All, seed: seedValue);
                    ImageCodec.SaveBitmap(sheet, gridPath, jpegQuality: 88);
                    Console.WriteLine(
                        $"wrote {gridPath} ({rows.Count} faces × clean + {string.Join(", ", Occluder.All)})"
                    );
                }
                return 0;
            })
        );
        return cmd;
    }
}
