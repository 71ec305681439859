using System.Security.Cryptography;
using System.Text;
using Dbuild.Registry.Storage;

namespace Dbuild.IntegrationTests.Registry.Drivers;

/// <summary>
/// The storage driver contract (<see cref="IStorageDriver"/>), checked the same way against every driver, as
/// distribution's driver test suite does. A concrete class gives a fresh, empty root per test.
/// </summary>
public abstract class StorageDriverConformance
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A driver over a fresh, empty root.</summary>
    protected abstract Task<IStorageDriver> CreateDriverAsync();

    /// <summary>Whether the driver hands out download URLs (Azure: SAS) rather than local paths (filesystem).</summary>
    protected abstract bool HasDownloadUrls { get; }

    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    // ---- stat and reads ----

    [Fact]
    public async Task Stat_Missing_ReturnsNull()
    {
        Assert.Null(await (await CreateDriverAsync()).StatAsync("no/such/item", Ct));
    }

    [Fact]
    public async Task Stat_Prefix_IsNotAnItem()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("dir/sub/item", Bytes("x"), WriteCondition.None, Ct);
        Assert.Null(await driver.StatAsync("dir", Ct));
        Assert.Null(await driver.StatAsync("dir/sub", Ct));
        Assert.Null(await driver.ReadAllAsync("dir/sub", 1024, Ct));
        Assert.Null(await driver.OpenReadAsync("dir/sub", 0, null, Ct));
    }

    [Fact]
    public async Task Write_ThenStat_GivesSizeModifiedAndTheWrittenETag()
    {
        IStorageDriver driver = await CreateDriverAsync();
        DateTimeOffset before = DateTimeOffset.UtcNow;
        string? etag = await driver.WriteAsync("a/b", Bytes("hello"), WriteCondition.None, Ct);
        StorageStat? stat = await driver.StatAsync("a/b", Ct);
        Assert.NotNull(etag);
        Assert.NotNull(stat);
        Assert.Equal(5, stat.Size);
        Assert.Equal(etag, stat.ETag);
        Assert.InRange(stat.Modified, before.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task ReadAll_GivesContentAndTheETagOfThatVersion()
    {
        IStorageDriver driver = await CreateDriverAsync();
        string? etag = await driver.WriteAsync("small", Bytes("content"), WriteCondition.None, Ct);
        StorageContent? read = await driver.ReadAllAsync("small", 1024, Ct);
        Assert.NotNull(read);
        Assert.Equal("content", Encoding.UTF8.GetString(read.Content));
        Assert.Equal(etag, read.ETag);
        Assert.Null(await driver.ReadAllAsync("missing", 1024, Ct));
    }

    [Fact]
    public async Task ReadAll_LargerThanTheLimit_Throws()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("big", new byte[2048], WriteCondition.None, Ct);
        await Assert.ThrowsAsync<InvalidDataException>(() => driver.ReadAllAsync("big", 1024, Ct));
    }

    [Fact]
    public async Task OpenRead_Ranges_ReadExactlyTheRequestedBytes()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("r", Bytes("0123456789"), WriteCondition.None, Ct);
        Assert.Equal("0123456789", Encoding.UTF8.GetString((await DriverIo.ReadAsync(driver, "r"))!));
        Assert.Equal("3456789", Encoding.UTF8.GetString((await DriverIo.ReadAsync(driver, "r", 3))!));
        Assert.Equal("345", Encoding.UTF8.GetString((await DriverIo.ReadAsync(driver, "r", 3, 3))!));
        Assert.Equal("89", Encoding.UTF8.GetString((await DriverIo.ReadAsync(driver, "r", 8, 100))!)); // length past the end: the rest
        Assert.Empty((await DriverIo.ReadAsync(driver, "r", 10))!);        // offset at the end
        Assert.Empty((await DriverIo.ReadAsync(driver, "r", 25, 3))!);     // offset past the end
        Assert.Empty((await DriverIo.ReadAsync(driver, "r", 2, 0))!);      // zero length
        Assert.Null(await DriverIo.ReadAsync(driver, "missing", 0));
    }

    [Fact]
    public async Task OpenRead_EmptyItem_ReadsNothing()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("empty", Array.Empty<byte>(), WriteCondition.None, Ct);
        Assert.Equal(0, (await driver.StatAsync("empty", Ct))!.Size);
        Assert.Empty((await DriverIo.ReadAsync(driver, "empty"))!);
        Assert.Empty((await DriverIo.ReadAsync(driver, "empty", 0, 5))!);
    }

    // ---- conditional writes ----

    [Fact]
    public async Task Write_None_ReplacesWithANewETag()
    {
        IStorageDriver driver = await CreateDriverAsync();
        string? first = await driver.WriteAsync("w", Bytes("one"), WriteCondition.None, Ct);
        string? second = await driver.WriteAsync("w", Bytes("two!"), WriteCondition.None, Ct);
        Assert.NotEqual(first, second);
        Assert.Equal("two!", Encoding.UTF8.GetString((await driver.ReadAllAsync("w", 100, Ct))!.Content));
    }

    [Fact]
    public async Task Write_IfAbsent_OnExisting_WritesNothing()
    {
        IStorageDriver driver = await CreateDriverAsync();
        Assert.NotNull(await driver.WriteAsync("once", Bytes("first"), WriteCondition.IfAbsent, Ct));
        Assert.Null(await driver.WriteAsync("once", Bytes("second"), WriteCondition.IfAbsent, Ct));
        Assert.Equal("first", Encoding.UTF8.GetString((await driver.ReadAllAsync("once", 100, Ct))!.Content));
    }

    [Fact]
    public async Task Write_IfAbsent_EightConcurrentCreators_ExactlyOneWins()
    {
        IStorageDriver driver = await CreateDriverAsync();
        string?[] results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => driver.WriteAsync("race/item", Bytes($"creator {i}"), WriteCondition.IfAbsent, Ct), Ct)));
        int winner = Assert.Single(Enumerable.Range(0, 8), i => results[i] is not null);
        StorageContent? content = await driver.ReadAllAsync("race/item", 100, Ct);
        Assert.Equal($"creator {winner}", Encoding.UTF8.GetString(content!.Content));
        Assert.Equal(results[winner], content.ETag);
    }

    [Fact]
    public async Task Write_IfMatch_CurrentETagWins_StaleETagIsRefused()
    {
        IStorageDriver driver = await CreateDriverAsync();
        string stale = (await driver.WriteAsync("cas", Bytes("v1"), WriteCondition.None, Ct))!;
        string? next = await driver.WriteAsync("cas", Bytes("v2"), WriteCondition.IfMatch(stale), Ct);
        Assert.NotNull(next);
        Assert.NotEqual(stale, next);
        Assert.Null(await driver.WriteAsync("cas", Bytes("v3"), WriteCondition.IfMatch(stale), Ct));
        Assert.Equal("v2", Encoding.UTF8.GetString((await driver.ReadAllAsync("cas", 100, Ct))!.Content));
        Assert.Null(await driver.WriteAsync("missing", Bytes("x"), WriteCondition.IfMatch(stale), Ct));
        Assert.Null(await driver.StatAsync("missing", Ct));
    }

    [Fact]
    public async Task Write_IfMatch_ConcurrentSwapsFromOneETag_ExactlyOneWins()
    {
        IStorageDriver driver = await CreateDriverAsync();
        string etag = (await driver.WriteAsync("cas", Bytes("start"), WriteCondition.None, Ct))!;
        string?[] results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => driver.WriteAsync("cas", Bytes($"swap {i}"), WriteCondition.IfMatch(etag), Ct), Ct)));
        int winner = Assert.Single(Enumerable.Range(0, 8), i => results[i] is not null);
        Assert.Equal($"swap {winner}", Encoding.UTF8.GetString((await driver.ReadAllAsync("cas", 100, Ct))!.Content));
    }

    // ---- staged items ----

    [Fact]
    public async Task Stage_TwoPartsThenCommit_GivesTheExactBytes()
    {
        IStorageDriver driver = await CreateDriverAsync();
        byte[] one = RandomNumberGenerator.GetBytes(300_001), two = RandomNumberGenerator.GetBytes(123_457);
        StagedPart first = await DriverIo.StageAsync(driver, "up/data", 0, one);
        StagedPart second = await DriverIo.StageAsync(driver, "up/data", one.Length, two);
        Assert.Equal((0L, (long)one.Length), (first.Offset, first.Length));
        Assert.Equal(((long)one.Length, (long)two.Length), (second.Offset, second.Length));
        await driver.CommitStagedAsync("up/data", [first, second], Ct);
        byte[] expected = [.. one, .. two];
        Assert.Equal(expected, await DriverIo.ReadAsync(driver, "up/data"));
        Assert.Equal(one.Length + two.Length, (await driver.StatAsync("up/data", Ct))!.Size);
    }

    [Fact]
    public async Task Commit_NoParts_GivesAnEmptyItem()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.CommitStagedAsync("up/empty", [], Ct);
        Assert.Equal(0, (await driver.StatAsync("up/empty", Ct))!.Size);
    }

    [Fact]
    public async Task Stage_EmptyBody_GivesAPartOfLengthZero()
    {
        IStorageDriver driver = await CreateDriverAsync();
        StagedPart part = await DriverIo.StageAsync(driver, "up/data", 0, []);
        Assert.Equal(0, part.Length);
    }

    [Fact]
    public async Task Commit_PartNotInTheList_IsDropped()
    {
        // The second append lost its race (its state write failed): a retry staged the same offset again.
        IStorageDriver driver = await CreateDriverAsync();
        StagedPart head = await DriverIo.StageAsync(driver, "up/data", 0, Bytes("head-"));
        await DriverIo.StageAsync(driver, "up/data", 5, Bytes("LOST-BYTES"));
        StagedPart tail = await DriverIo.StageAsync(driver, "up/data", 5, Bytes("tail"));
        await driver.CommitStagedAsync("up/data", [head, tail], Ct);
        Assert.Equal("head-tail", Encoding.UTF8.GetString((await DriverIo.ReadAsync(driver, "up/data"))!));
    }

    [Fact]
    public async Task Stage_FortyMiB_StreamsAndObservesEveryByteInOrder()
    {
        IStorageDriver driver = await CreateDriverAsync();
        byte[] data = RandomNumberGenerator.GetBytes(40 * 1024 * 1024 + 12_345);
        using var observed = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        StagedPart part = await DriverIo.StageAsync(driver, "big/data", 0, data, sequence =>
        {
            foreach (ReadOnlyMemory<byte> segment in sequence) { observed.AppendData(segment.Span); }
        });
        Assert.Equal(data.Length, part.Length);
        Assert.Equal(SHA256.HashData(data), observed.GetHashAndReset());
        await driver.CommitStagedAsync("big/data", [part], Ct);
        Stream stored = (await driver.OpenReadAsync("big/data", 0, null, Ct))!;
        await using (stored) { Assert.Equal(SHA256.HashData(data), await SHA256.HashDataAsync(stored, Ct)); }
    }

    // ---- moves ----

    [Fact]
    public async Task MoveIfAbsent_MovesTheItem()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("from/data", Bytes("payload"), WriteCondition.None, Ct);
        Assert.True(await driver.MoveIfAbsentAsync("from/data", "to/x/data", Ct));
        Assert.Null(await driver.StatAsync("from/data", Ct));
        Assert.Equal("payload", Encoding.UTF8.GetString((await DriverIo.ReadAsync(driver, "to/x/data"))!));
    }

    [Fact]
    public async Task MoveIfAbsent_OntoAnExistingItem_ReturnsFalseAndLeavesBoth()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("from/data", Bytes("new"), WriteCondition.None, Ct);
        await driver.WriteAsync("to/data", Bytes("old"), WriteCondition.None, Ct);
        Assert.False(await driver.MoveIfAbsentAsync("from/data", "to/data", Ct));
        Assert.Equal("new", Encoding.UTF8.GetString((await DriverIo.ReadAsync(driver, "from/data"))!));
        Assert.Equal("old", Encoding.UTF8.GetString((await DriverIo.ReadAsync(driver, "to/data"))!));
    }

    [Fact]
    public async Task MoveIfAbsent_ACommittedStagedItem_MovesItsBytes()
    {
        IStorageDriver driver = await CreateDriverAsync();
        byte[] data = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 3);
        StagedPart part = await DriverIo.StageAsync(driver, "_uploads/u/data", 0, data);
        await driver.CommitStagedAsync("_uploads/u/data", [part], Ct);
        Assert.True(await driver.MoveIfAbsentAsync("_uploads/u/data", "blobs/ab/data", Ct));
        Assert.Equal(data, await DriverIo.ReadAsync(driver, "blobs/ab/data"));
    }

    // ---- listing, walking, existence ----

    [Fact]
    public async Task List_PagesOfTwo_GiveDirectChildrenInOrdinalOrder()
    {
        IStorageDriver driver = await CreateDriverAsync();
        // Items and prefixes mixed; "1.0" sorts before "1.0-rc" although Azure lists "1.0-rc/" before "1.0/".
        foreach (string path in (string[])["l/b", "l/a-b", "l/c", "l/a/x", "l/1.0/current/link", "l/1.0-rc/current/link", "l/a/deeper/y", "lx/not-a-child"])
        {
            await driver.WriteAsync(path, Bytes(path), WriteCondition.None, Ct);
        }
        var all = new List<string>();
        var pages = new List<int>();
        string? after = null;
        for (int guard = 0; guard < 10; guard++)
        {
            StoragePage page = await driver.ListAsync("l", after, 2, Ct);
            all.AddRange(page.Names);
            pages.Add(page.Names.Count);
            if (page.Next is null) { break; }
            Assert.Equal(page.Names[^1], page.Next);
            after = page.Next;
        }
        Assert.Equal(["1.0", "1.0-rc", "a", "a-b", "b", "c"], all);
        Assert.Equal([2, 2, 2], pages.Take(3));
        Assert.Equal(["a-b", "b"], (await driver.ListAsync("l", "a", 2, Ct)).Names);
        StoragePage last = await driver.ListAsync("l", "b", 10, Ct);
        Assert.Equal(["c"], last.Names);
        Assert.Null(last.Next);
        Assert.Equal(["deeper", "x"], (await driver.ListAsync("l/a", null, 10, Ct)).Names);
        Assert.Empty((await driver.ListAsync("no/such", null, 10, Ct)).Names);
        Assert.Empty((await driver.ListAsync("l/b", null, 10, Ct)).Names); // an item has no children
    }

    [Fact]
    public async Task Walk_FindsEveryNestedItemWithItsSize()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("w/a", Bytes("1"), WriteCondition.None, Ct);
        await driver.WriteAsync("w/b/c", Bytes("22"), WriteCondition.None, Ct);
        await driver.WriteAsync("w/b/d/e/f", Bytes("333"), WriteCondition.None, Ct);
        await driver.WriteAsync("wx/outside", Bytes("4444"), WriteCondition.None, Ct);
        var found = new Dictionary<string, long>();
        await foreach (StorageEntry entry in driver.WalkAsync("w", Ct))
        {
            found.Add(entry.Path, entry.Size);
            Assert.InRange(entry.Modified, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(5));
        }
        Assert.Equal(new Dictionary<string, long> { ["w/a"] = 1, ["w/b/c"] = 2, ["w/b/d/e/f"] = 3 }, found);
        await foreach (StorageEntry entry in driver.WalkAsync("no/such", Ct)) { Assert.Fail($"unexpected {entry.Path}"); }
        int everything = 0;
        await foreach (StorageEntry _ in driver.WalkAsync("", Ct)) { everything++; }
        Assert.Equal(4, everything);
    }

    [Fact]
    public async Task Exists_ItemsAndNonEmptyPrefixes()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("e/f/g", Bytes("x"), WriteCondition.None, Ct);
        Assert.True(await driver.ExistsAsync("e/f/g", Ct));
        Assert.True(await driver.ExistsAsync("e/f", Ct));
        Assert.True(await driver.ExistsAsync("e", Ct));
        Assert.False(await driver.ExistsAsync("e/f/g/h", Ct));
        Assert.False(await driver.ExistsAsync("e/x", Ct));
    }

    // ---- deletes ----

    [Fact]
    public async Task Delete_APrefix_RemovesEverythingBelowAndNothingBeside()
    {
        IStorageDriver driver = await CreateDriverAsync();
        foreach (string path in (string[])["d/a", "d/b/c", "d/b/d/e", "dx/keep", "d-keep"])
        {
            await driver.WriteAsync(path, Bytes(path), WriteCondition.None, Ct);
        }
        await driver.DeleteAsync("d", Ct);
        Assert.False(await driver.ExistsAsync("d", Ct));
        Assert.Null(await driver.StatAsync("d/b/d/e", Ct));
        Assert.NotNull(await driver.StatAsync("dx/keep", Ct));
        Assert.NotNull(await driver.StatAsync("d-keep", Ct));
        await driver.DeleteAsync("dx/keep", Ct);
        Assert.Null(await driver.StatAsync("dx/keep", Ct));
        await driver.DeleteAsync("never/there", Ct); // missing is not an error
    }

    [Fact]
    public async Task DeleteIfMatch_OnlyTheVersionRead()
    {
        IStorageDriver driver = await CreateDriverAsync();
        string stale = (await driver.WriteAsync("s", Bytes("v1"), WriteCondition.None, Ct))!;
        string current = (await driver.WriteAsync("s", Bytes("v2"), WriteCondition.IfMatch(stale), Ct))!;
        Assert.False(await driver.DeleteIfMatchAsync("s", stale, Ct));
        Assert.NotNull(await driver.StatAsync("s", Ct));
        Assert.True(await driver.DeleteIfMatchAsync("s", current, Ct));
        Assert.Null(await driver.StatAsync("s", Ct));
        Assert.True(await driver.DeleteIfMatchAsync("s", current, Ct)); // already gone
    }

    // ---- direct access ----

    [Fact]
    public async Task DownloadUrl_IsGettableOrAbsent()
    {
        IStorageDriver driver = await CreateDriverAsync();
        await driver.WriteAsync("blobs/x/data", Bytes("direct bytes"), WriteCondition.None, Ct);
        Uri? url = await driver.GetDownloadUrlAsync("blobs/x/data", TimeSpan.FromMinutes(5), Ct);
        if (!HasDownloadUrls)
        {
            Assert.Null(url);
            Assert.NotNull(driver.GetLocalPath("blobs/x/data"));
            return;
        }
        Assert.NotNull(url);
        Assert.Null(driver.GetLocalPath("blobs/x/data"));
        using var client = new HttpClient();
        Assert.Equal("direct bytes", await client.GetStringAsync(url, Ct));
        using HttpResponseMessage write = await client.PutAsync(url, new ByteArrayContent(Bytes("overwrite")), Ct);
        Assert.False(write.IsSuccessStatusCode, "a download URL must be read-only");
    }
}
