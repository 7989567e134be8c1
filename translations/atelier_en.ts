<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>Atelier::DeviceBoardModel</name>
    <message>
        <source>%1 GiB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 MiB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ready to start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>starting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>loading the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>idle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>rendering</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stopping</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>restarting: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>disabled: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>State</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rendering</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Speed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Left</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::GalleryPanel</name>
    <message numerus="yes">
        <source>%1: %n image(s) could not be read, e.g. %2</source>
        <translation>
            <numerusform>%1: %n image could not be read, e.g. %2</numerusform>
            <numerusform>%1: %n images could not be read, e.g. %2</numerusform>
        </translation>
    </message>
    <message>
        <source>All models</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n image</numerusform>
            <numerusform>%n images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied the prompt of %n image(s).</source>
        <translation>
            <numerusform>Copied the prompt of %n image.</numerusform>
            <numerusform>Copied the prompt of %n images.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied %n seed(s).</source>
        <translation>
            <numerusform>Copied %n seed.</numerusform>
            <numerusform>Copied %n seeds.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied the parameters of %n image(s).</source>
        <translation>
            <numerusform>Copied the parameters of %n image.</numerusform>
            <numerusform>Copied the parameters of %n images.</numerusform>
        </translation>
    </message>
    <message>
        <source>Requeue with new seeds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Variations of each image:</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Moved %n image(s) to the trash. Undo with %1.</source>
        <translation>
            <numerusform>Moved %n image to the trash. Undo with %1.</numerusform>
            <numerusform>Moved %n images to the trash. Undo with %1.</numerusform>
        </translation>
    </message>
    <message>
        <source>Could not move to the trash: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 exists again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 could not be put back from %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not undo: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Put %n image(s) back.</source>
        <translation>
            <numerusform>Put %n image back.</numerusform>
            <numerusform>Put %n images back.</numerusform>
        </translation>
    </message>
    <message>
        <source>Un&amp;star</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Star</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search prompts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>★ Starred</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show only starred images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show only one model&apos;s images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Any time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Today</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last 12 months</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show it full size, with its parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Copy prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy the prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy s&amp;eed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy the seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy &amp;parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy every generation parameter as AUTOMATIC1111 infotext</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Use these settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fill the editor with its prompt and settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Requeue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue it again, seed and all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requeue with &amp;new seeds…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue variations of it with new seeds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open containing &amp;folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show its folder in the file manager</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move to &amp;trash</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move its file to the trash (it can be undone)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Undo move to trash</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Put the images last moved to the trash back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;scan folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Look for new, changed and deleted images again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Star it, or unstar it (%1)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::ImageViewer</name>
    <message>
        <source>Previous</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the previous image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the next image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>First</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the first image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the last image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fit the whole image in the window</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>100 %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the image&apos;s actual pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom In</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom Out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close the viewer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prompt:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Negative prompt:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Steps:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CFG scale:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sampler:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Created:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Parameters (infotext):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This image carries no generation parameters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image Viewer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 – %2 of %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (file: %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (missing)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model hash: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fit (%1 %)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is not there: it was moved, renamed or deleted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 cannot be shown: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::LibraryModel</name>
    <message>
        <source>Negative prompt: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Steps: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sampler: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CFG scale: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size: %1×%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (missing)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::MainWindow</name>
    <message>
        <source>About Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;Queue Stable Diffusion prompts and render them on every GPU at once.&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Negative prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe the image, e.g. a lighthouse at dusk, oil painting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What to avoid, e.g. blurry, low quality</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add to queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Imported %n prompt(s)</source>
        <translation>
            <numerusform>Imported %n prompt</numerusform>
            <numerusform>Imported %n prompts</numerusform>
        </translation>
    </message>
    <message>
        <source>Import problems</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n line(s) could not be imported; the rest were queued.</source>
        <translation>
            <numerusform>%n line could not be imported; the rest were queued.</numerusform>
            <numerusform>%n lines could not be imported; the rest were queued.</numerusform>
        </translation>
    </message>
    <message>
        <source>Import prompts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prompt files (*.txt *.csv *.json *.jsonl);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Import prompts…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot create the output folder %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot start rendering: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stable Diffusion 1.x checkpoints (*.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;CFG scale</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Si&amp;ze</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sa&amp;mpler</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>M&amp;odel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>O&amp;utput</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Built-in test model (abstract noise)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A Stable Diffusion 1.x .safetensors checkpoint or diffusers folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Render</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render the queue on the checked devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rendering stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No device could go on rendering; the prompts that were not finished are back in the queue. Check the model and the devices, then press Render again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The queue could not be saved: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s) first</source>
        <translation>
            <numerusform>Queued %n image first</numerusform>
            <numerusform>Queued %n images first</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s)</source>
        <translation>
            <numerusform>Queued %n image</numerusform>
            <numerusform>Queued %n images</numerusform>
        </translation>
    </message>
    <message>
        <source>Only a waiting item can be edited.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Editing: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The item started before the changes were saved; it renders as it was. Your changes are still in the editor.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Changes saved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>canceled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Check at least one device to render on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot use %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) waiting</source>
        <translation>
            <numerusform>%n item waiting</numerusform>
            <numerusform>%n items waiting</numerusform>
        </translation>
    </message>
    <message>
        <source>paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The settings of what you add next; the queue keeps each item&apos;s own</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;eed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>R&amp;andom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a whole number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images per prompt, with seeds s, s + 1, …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add &amp;first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue this prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue this prompt before everything that waits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Save changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the editor into the queued item</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel &amp;editing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop rendering; running items wait again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Res&amp;ume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start waiting items again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Let running items finish and start nothing new</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load the item into the editor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>D&amp;uplicate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue a copy right after it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move to &amp;top</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render it next</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move to &amp;bottom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render it last</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;try</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue a failed or canceled item again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Do not render it; a running one stops</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;move</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove it from the queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;lear finished</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove every finished item from the queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the clipboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 holds no generation parameters: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (not used: %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queued the parameters of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The editor has the parameters of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 holds no generation parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the dropped text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Paste parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fill the editor from generation parameters (A1111 infotext) on the clipboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Atelier: queue done</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Every queued image is made (%n this run).</source>
        <translation>
            <numerusform>Every queued image is made (%n this run).</numerusform>
            <numerusform>Every queued image is made (%n this run).</numerusform>
        </translation>
    </message>
    <message>
        <source>Atelier: a device stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was disabled: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The editor has the image&apos;s prompt and settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s) again.</source>
        <translation>
            <numerusform>Queued %n image again.</numerusform>
            <numerusform>Queued %n images again.</numerusform>
        </translation>
    </message>
    <message>
        <source>Add a folder to the gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU, worker %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Some settings were not usable: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Models, output folder and names, defaults, workers, theme</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add a folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the images of another folder in the gallery too</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clip s&amp;kip</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AUTOMATIC1111&apos;s Clip skip: 1 uses CLIP&apos;s last layer, 2 the one before (what many anime-style models expect)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose an init image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a VAE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAE files (*.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>I&amp;nit image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None: text to image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image to image: start from this picture, resized to the size above</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Hires fix</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render at the size above, then again larger (text to image only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How many times larger the second pass renders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Latent enlarges the latents; Lanczos the decoded image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>same steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Steps of the second pass</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Denoising</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denoising strength of image to image or of the hires fix: how much of the picture is redrawn</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;VAE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model&apos;s own</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A VAE from the VAE folders (AUTOMATIC1111&apos;s models/VAE, ComfyUI&apos;s models/vae)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a VAE file</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::QueueModel</name>
    <message>
        <source>steps %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CFG %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>seed %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>default settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>waiting for a retry: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>running on %1, step %2/%3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>starting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>starting on %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>canceled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1
Negative: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>State</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>clip skip %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>from %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>hires ×%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>denoising %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAE %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Atelier::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Defaults</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Workers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Appearance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default mode&amp;l:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The built-in tiny model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A .safetensors checkpoint or a diffusers folder; pick one below and press &quot;Use as default&quot;, or double-click it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Safetensors checkpoints (*.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mod&amp;els found:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Problem</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Use as default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;scan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folders to searc&amp;h (and the Hugging Face cache, %1):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add &amp;folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A folder with diffusers models or .safetensors checkpoints, searched with its subfolders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add AUTOMATIC&amp;1111 folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The stable-diffusion-webui folder, or its models/Stable-diffusion folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add &amp;ComfyUI folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The ComfyUI folder, or its models/checkpoints folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Remove folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>B&amp;rowse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>R&amp;eset</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Back to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Every name starts with a running number (00012-), so no image is ever replaced. Tokens, as AUTOMATIC1111 names them: %1. [prompt_words] is the prompt&apos;s first words, [time] is hours-minutes-seconds, [item] the queue item&apos;s number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output fo&amp;lder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Naming pattern:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What the images should not show, for prompts that do not say</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;teps:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;CFG scale:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;ize:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sam&amp;pler:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Negative prompt:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images per p&amp;rompt:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New prompts start with these values; prompts already queued keep theirs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Batch size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Most images a worker renders at once. Automatic: as many as the device&apos;s free memory holds. A smaller number leaves memory for other programs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;CPU workers:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Worker processes on the CPU, each with its share of the cores; each is a row of the device board. Takes effect when the window starts again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Light</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dark</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Theme:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Looking for models…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hugging Face cache</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Diffusers folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Single file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No models found.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n model(s) found</source>
        <translation>
            <numerusform>%n model found</numerusform>
            <numerusform>%n models found</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, %n of them cannot be used (see Problem)</source>
        <translation>
            <numerusform>, %n of them cannot be used (see Problem)</numerusform>
            <numerusform>, %n of them cannot be used (see Problem)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n place(s) skipped (hover for details)</source>
        <translation>
            <numerusform>%n place skipped (hover for details)</numerusform>
            <numerusform>%n places skipped (hover for details)</numerusform>
        </translation>
    </message>
    <message>
        <source>Add a folder with models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add an AUTOMATIC1111 (stable-diffusion-webui) folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add a ComfyUI folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Example: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;LoRAs and VAEs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prompts name LoRAs (&lt;lora:NAME:WEIGHT&gt;) and embeddings by file name, and an item may name a VAE; they are looked for in these folders and their subfolders, first to last.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lo&amp;RA folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Then %1, and models/Lora of each AUTOMATIC1111 folder and models/loras of each ComfyUI folder on the Models page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Embedding folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Then %1, and embeddings of each AUTOMATIC1111 folder and models/embeddings of each ComfyUI folder on the Models page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;VAE folders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Then %1, and models/VAE of each AUTOMATIC1111 folder and models/vae of each ComfyUI folder on the Models page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>The queue cannot be kept on disk: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The image library cannot be opened: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
