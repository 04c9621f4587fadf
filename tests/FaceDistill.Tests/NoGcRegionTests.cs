using System.Runtime;
using FaceDistill.Core;

namespace FaceDistill.Tests;

[CollectionDefinition("gc", DisableParallelization = true)]
public class GcCollection;

/// <summary>The region that keeps TorchSharp's implicit Scalars from being finalized mid-call
/// (docs/platform-notes.md): no collection inside it, nested and repeated use share one region, and it ends.</summary>
[Collection("gc")]
public class NoGcRegionTests
{
    [Fact]
    public void NoCollectionRunsInsideANestedRegionAndItEndsWithTheOutermost()
    {
        using (var outer = NoGcRegion.Enter())
        {
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            int collections = GC.CollectionCount(0);
            using (NoGcRegion.Enter())
            {
                var junk = new List<byte[]>();
                for (int i = 0; i < 64; i++)
                    junk.Add(new byte[256 * 1024]); // 16 MB, which would start collections outside a region
                GC.KeepAlive(junk);
            }
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode); // the inner one did not end it
            Assert.Equal(collections, GC.CollectionCount(0));
        }
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        long completed = NoGcRegion.Completed;
        using (NoGcRegion.Enter()) { }
        Assert.Equal(completed + 1, NoGcRegion.Completed);
    }

    [Fact]
    public void ARegionCutShortByACollectionIsCountedAndTheNextOneStarts()
    {
        long cut = NoGcRegion.CutShort;
        using (NoGcRegion.Enter())
            GC.Collect(); // ends the region from inside, as a spent budget does
        Assert.Equal(cut + 1, NoGcRegion.CutShort);
        using (NoGcRegion.Enter())
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }
}
