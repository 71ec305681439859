using System.Diagnostics;
using System.Globalization;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

// The limit for bench/registry/azure.sh: the Azure SDK moving the same bytes to and from the storage account directly,
// with the SDK's own parallel transfer (8 MiB blocks, 8 in flight), as a client that needed no registry would.
//   Dbuild.Registry.AzureBench push SERVICE_URL ACCOUNT KEY CONTAINER FILE     → prints seconds
//   Dbuild.Registry.AzureBench pull SERVICE_URL ACCOUNT KEY CONTAINER NAME     → prints seconds (bytes discarded)
if (args.Length != 6 || args[0] is not ("push" or "pull"))
{
    Console.Error.WriteLine("usage: Dbuild.Registry.AzureBench push|pull SERVICE_URL ACCOUNT KEY CONTAINER FILE|NAME");
    return 2;
}
(string mode, string serviceUrl, string account, string key, string containerName, string item) = (args[0], args[1], args[2], args[3], args[4], args[5]);
var service = new BlobServiceClient(new Uri(serviceUrl), new StorageSharedKeyCredential(account, key));
BlobContainerClient container = service.GetBlobContainerClient(containerName);
await container.CreateIfNotExistsAsync();
var transfer = new StorageTransferOptions { MaximumConcurrency = 8, InitialTransferSize = 8 * 1024 * 1024, MaximumTransferSize = 8 * 1024 * 1024 };
var watch = Stopwatch.StartNew();
if (mode == "push")
{
    BlobClient blob = container.GetBlobClient($"direct/{Path.GetFileName(item)}-{Guid.NewGuid():N}");
    await using FileStream input = File.OpenRead(item);
    await blob.UploadAsync(input, new BlobUploadOptions { TransferOptions = transfer });
}
else
{
    BlobClient blob = container.GetBlobClient(item);
    await blob.DownloadToAsync(Stream.Null, new BlobDownloadToOptions { TransferOptions = transfer });
}
Console.WriteLine(watch.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture));
return 0;
