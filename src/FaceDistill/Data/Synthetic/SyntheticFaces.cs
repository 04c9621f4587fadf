namespace FaceDistill.Data.Synthetic;

public sealed record SyntheticOptions
{
    public int Identities { get; init; } = 100;
    public int ImagesPerIdentity { get; init; } = 20;

    /// <summary>First identity id: held-out sets use ids disjoint from the training set's.</summary>
    public int FirstIdentity { get; init; }
    public int Size { get; init; } = 112;
    public int Seed { get; init; } = 7;

    /// <summary>Scales pose, lighting, noise and blur (0 = frontal and clean, 1 = default, up to 2).</summary>
    public float Difficulty { get; init; } = 1f;
}

/// <summary>The built-in default dataset: procedurally drawn faces (<see cref="FaceRenderer"/>), every label known —
/// identity, expression, age, gender and 68 landmarks. Image <c>i</c> is person <c>FirstIdentity + i /
/// ImagesPerIdentity</c>; everything is a pure function of (seed, identity, image), so any image can be redrawn on any
/// thread, offline.</summary>
public sealed class SyntheticFaces : IFaceDataset
{
    private readonly SyntheticIdentity[] _people;
    public SyntheticOptions Options { get; }

    public SyntheticFaces(SyntheticOptions options)
    {
        if (options.Identities <= 0 || options.ImagesPerIdentity <= 0 || options.Size < 16)
            throw new ArgumentOutOfRangeException(
                nameof(options),
                "synthetic data needs identities > 0, imagesPerIdentity > 0 and size >= 16"
            );
        Options = options;
        _people = Enumerable
            .Range(0, options.Identities)
            .Select(i => SyntheticIdentity.Create(options.Seed, options.FirstIdentity + i))
            .ToArray();
    }

    public int Count => Options.Identities * Options.ImagesPerIdentity;

    public int ClassCount(FaceTask task) =>
        task switch
        {
            FaceTask.Recognition => Options.Identities,
            FaceTask.Expression => 7,
            FaceTask.Gender => 2,
            _ => 0,
        };

    public SyntheticIdentity Person(int index) => _people[index / Options.ImagesPerIdentity];

    public SyntheticShot Shot(int index) =>
        SyntheticShot.Create(Options.Seed, Person(index).Id, index % Options.ImagesPerIdentity, Options.Difficulty);

    /// <summary>Identity labels are 0-based within this set (class indices for a classifier head).</summary>
    public FaceLabels Labels(int index)
    {
        var p = Person(index);
        return new FaceLabels(index / Options.ImagesPerIdentity, Shot(index).Expression, p.Age, p.Gender);
    }

    public RgbImage Image(int index) => Render(index).Image;

    public (RgbImage Image, float[]? Landmarks) Load(int index) => Render(index);

    public (RgbImage Image, float[] Landmarks) Render(int index) =>
        FaceRenderer.Render(Person(index), Shot(index), Options.Size);

    public string Describe(int index) =>
        $"synthetic #{index} (person {Person(index).Id}, photo {index % Options.ImagesPerIdentity})";
}
